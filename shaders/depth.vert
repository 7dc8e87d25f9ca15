#version 330
// Depth-only occluders (the head, later fingers and neck): they hide jewelry behind them and draw nothing.
uniform mat4 u_proj;
uniform mat4 u_cam_T_part;
in vec3 in_position;

void main() {
    gl_Position = u_proj * (u_cam_T_part * vec4(in_position, 1.0));
}
