"""Model files (pickle, PyTorch, joblib, numpy, Keras, safetensors, GGUF) analysed without loading them."""
