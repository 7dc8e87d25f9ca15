#version 330
// Colour writes are masked off while occluders draw; only depth is kept.
out vec4 f_color;

void main() {
    f_color = vec4(0.0);
}
