#version 330
// Jewelry vertices in the item part's frame -> OpenCV camera frame (metres) -> clip space of the ROI.
uniform mat4 u_proj;        // OpenCV camera frame -> clip space of the region being drawn
#ifdef INSTANCED
in mat4 in_cam_T_part;      // one per instance: a necklace's repeat units along its chain
#define u_cam_T_part in_cam_T_part
#else
uniform mat4 u_cam_T_part;  // part frame -> camera frame
#endif
in vec3 in_position;
in vec3 in_normal;
out vec3 v_position;        // camera frame, metres
out vec3 v_normal;          // camera frame
#ifdef TINTED
in vec3 in_tint;            // a photo piece's detail: multiplies the material's base colour (linear)
out vec3 v_tint;
#endif

void main() {
    vec4 p = u_cam_T_part * vec4(in_position, 1.0);
    v_position = p.xyz;
    v_normal = mat3(u_cam_T_part) * in_normal;  // rigid transforms only: no inverse-transpose needed
    gl_Position = u_proj * p;
#ifdef TINTED
    v_tint = in_tint;
#endif
}
