"""A package, so pytest imports these as ``cv.test_*``: names such as test_prepare stay unique."""
