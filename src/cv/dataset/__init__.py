"""The YOLO half's data: a synthetic COCO128 stand-in and the tiny person dataset cut from it."""
