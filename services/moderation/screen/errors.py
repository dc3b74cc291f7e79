"""The screen's one error, in a module of its own so that the ONNX engines
(which loading.py and model.py import) can raise it without an import cycle."""


class ModelLoadError(RuntimeError):
    """One line saying why no model could be loaded."""
