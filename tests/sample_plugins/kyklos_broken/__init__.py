raise ImportError("this sample plugin fails at import on purpose")
