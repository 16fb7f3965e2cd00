"""`python -m evals --suite quick|full [--json] [--model offline|scripted|openai] [--k N] [--results DIR]`.

See evals/suite.py and docs/evals.md."""

from evals.suite import main

raise SystemExit(main())
