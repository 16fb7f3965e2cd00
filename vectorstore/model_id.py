"""The embedding model's identity, importable without chromadb or onnxruntime (the sentiment classifier's
fingerprint names it, and a scan that finds every prediction stored loads neither)."""

#: Identifies the vectors: a collection built with another model must not be queried with this one.
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
