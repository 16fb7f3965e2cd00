from warmintro.cli import main

raise SystemExit(main())
