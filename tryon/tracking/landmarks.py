"""Index constants into MediaPipe's 478-point face mesh (468 face points + 2 x 5 iris points).

"Image left/right" below means as seen in an unmirrored photo: the person's right side is on the image's
left.
"""

FACE_SIDE_IMAGE_LEFT = 234  # the face's edge at the ear, person's right side
FACE_SIDE_IMAGE_RIGHT = 454  # person's left side
NEAREST_LOBE_IMAGE_LEFT = 132  # the single landmark nearest the right ear lobe
NEAREST_LOBE_IMAGE_RIGHT = 361

# Iris points: centre, then four contour points (one each side, top, bottom).
IRIS_RIGHT = (468, 469, 470, 471, 472)  # the person's right eye (image left)
IRIS_LEFT = (473, 474, 475, 476, 477)

# Cheek points whose colour stands for the person's skin.
CHEEKS = (50, 101, 118, 123, 205, 280, 330, 347, 352, 425)

# Lips and the chin move with expressions; the head pose ignores them.
LIPS = (
    0, 13, 14, 17, 37, 39, 40, 61, 78, 80, 81, 82, 84, 87, 88, 91, 95, 146, 178, 181, 185, 191, 267,
    269, 270, 291, 308, 310, 311, 312, 314, 317, 318, 321, 324, 375, 402, 405, 409, 415,
)
CHIN = (
    32, 140, 148, 149, 150, 152, 169, 170, 171, 175, 176, 199, 200, 201, 208, 262, 369, 377, 378, 379,
    394, 395, 396, 400, 421, 428,
)
