#version 330
// Jewelry shading: GGX microfacet metals and dielectrics under a studio environment fixed to the camera,
// faceted gems with per-channel refraction (fire), PBR Neutral tone mapping and sRGB output.
// Everything is in the OpenCV camera frame: x right, y down, z forward (into the scene).
// Defines injected by the loader after #version: N_LIGHTS.

uniform vec3 u_base_color;   // linear RGB: F0 for metals, body colour for gems
uniform float u_metallic;
uniform float u_roughness;
uniform float u_ior;         // gems only (0 for metals)
uniform float u_dispersion;  // gems only: n(red) - n(blue)
uniform float u_exposure;
uniform vec3 u_light_dir[N_LIGHTS];     // direction the light travels, camera frame
uniform vec3 u_light_color[N_LIGHTS];   // linear radiance scale

in vec3 v_position;
in vec3 v_normal;
out vec4 f_color;

const float PI = 3.14159265;

// A soft studio: bright ceiling, two soft boxes left and right, a dim floor. Blurred by roughness.
vec3 environment(vec3 d, float roughness) {
    float up = -d.y;  // camera y points down
    float blur = 0.08 + 1.5 * roughness;
    vec3 ceiling = vec3(0.95, 0.93, 0.90) * smoothstep(0.15 - blur, 0.85 + blur, up);
    vec3 floor_ = vec3(0.05, 0.045, 0.04) * smoothstep(0.1 + blur, -0.6 - blur, up);
    float box_l = exp(-pow(length(d - normalize(vec3(-0.8, -0.3, -0.5))) / (0.25 + blur), 2.0));
    float box_r = exp(-pow(length(d - normalize(vec3(0.9, -0.2, -0.4))) / (0.22 + blur), 2.0));
    float box_f = exp(-pow(length(d - normalize(vec3(0.1, -0.5, -1.0))) / (0.30 + blur), 2.0));
    float strip = exp(-pow((d.x + 0.35) / (0.06 + blur), 2.0)) * smoothstep(-0.2, 0.4, -d.z);
    return 0.04 + ceiling * 0.8 + floor_ + vec3(3.0) * box_l + vec3(2.2) * box_r + vec3(1.4) * box_f
        + vec3(1.5) * strip;
}

vec3 fresnel_schlick(vec3 f0, float cos_theta) {
    return f0 + (1.0 - f0) * pow(1.0 - cos_theta, 5.0);
}

// Karis' analytic fit of the split-sum environment BRDF (scale, bias).
vec2 env_brdf(float n_dot_v, float roughness) {
    vec4 c0 = vec4(-1.0, -0.0275, -0.572, 0.022);
    vec4 c1 = vec4(1.0, 0.0425, 1.04, -0.04);
    vec4 r = roughness * c0 + c1;
    float a004 = min(r.x * r.x, exp2(-9.28 * n_dot_v)) * r.x + r.y;
    return vec2(-1.04, 1.04) * a004 + r.zw;
}

float ggx(float n_dot_h, float roughness) {
    float a = roughness * roughness;
    float a2 = a * a;
    float d = n_dot_h * n_dot_h * (a2 - 1.0) + 1.0;
    return a2 / (PI * d * d);
}

float smith_visibility(float n_dot_v, float n_dot_l, float roughness) {
    float k = (roughness + 1.0) * (roughness + 1.0) / 8.0;
    return 0.25 / ((n_dot_v * (1.0 - k) + k) * (n_dot_l * (1.0 - k) + k));
}

vec3 direct_specular(vec3 n, vec3 v, vec3 f0, float roughness) {
    vec3 sum = vec3(0.0);
    float r = max(roughness, 0.03);
    for (int i = 0; i < N_LIGHTS; ++i) {
        vec3 l = -normalize(u_light_dir[i]);
        vec3 h = normalize(l + v);
        float n_dot_l = max(dot(n, l), 0.0);
        float n_dot_v = max(dot(n, v), 1e-4);
        vec3 f = fresnel_schlick(f0, max(dot(h, v), 0.0));
        sum += u_light_color[i] * f * ggx(max(dot(n, h), 0.0), r) * smith_visibility(n_dot_v, n_dot_l, r) * n_dot_l;
    }
    return sum;
}

vec3 shade_metal(vec3 n, vec3 v) {
    float n_dot_v = max(dot(n, v), 1e-4);
    vec3 f0 = mix(vec3(0.04), u_base_color, u_metallic);
    vec2 ab = env_brdf(n_dot_v, u_roughness);
    vec3 spec = environment(reflect(-v, n), u_roughness) * (f0 * ab.x + ab.y);
    vec3 diffuse = (1.0 - u_metallic) * u_base_color * environment(n, 1.0) * 0.6;
    return diffuse + spec + direct_specular(n, v, f0, u_roughness);
}

// Faceted stone: the front facet reflects; light that entered through the crown leaves after internal
// reflections, approximated by refracting the view ray per colour channel (dispersion -> fire) and
// mirroring it off the pavilion (total internal reflection sends it back towards the viewer).
vec3 shade_gem(vec3 n, vec3 v) {
    float n_dot_v = max(dot(n, v), 1e-4);
    float f0 = pow((u_ior - 1.0) / (u_ior + 1.0), 2.0);
    float fr = f0 + (1.0 - f0) * pow(1.0 - n_dot_v, 5.0);
    vec3 reflected = environment(reflect(-v, n), 0.02) * fr;
    vec3 body = vec3(0.0);
    for (int c = 0; c < 3; ++c) {
        float ior = u_ior + u_dispersion * (float(c) - 1.0) * -0.5;  // red refracts least, blue most
        vec3 t = refract(-v, n, 1.0 / ior);
        vec3 back = reflect(t, -n);  // the pavilion sends it back out, steeply
        vec3 out_dir = normalize(back + 0.6 * (t - dot(t, n) * n) * ior);
        body[c] = environment(out_dir, 0.02)[c];
    }
    vec3 sparkle = direct_specular(n, v, vec3(f0), 0.02);
    return (1.0 - fr) * body * u_base_color * 1.15 + reflected + sparkle;
}

// Khronos PBR Neutral tone mapping: keeps product colours true up to the highlights.
vec3 pbr_neutral(vec3 color) {
    const float start = 0.8 - 0.04;
    const float desaturation = 0.15;
    float x = min(color.r, min(color.g, color.b));
    float offset = x < 0.08 ? x - 6.25 * x * x : 0.04;
    color -= offset;
    float peak = max(color.r, max(color.g, color.b));
    if (peak < start) return color;
    float d = 1.0 - start;
    float new_peak = 1.0 - d * d / (peak + d - start);
    color *= new_peak / peak;
    float g = 1.0 - 1.0 / (desaturation * (peak - new_peak) + 1.0);
    return mix(color, vec3(new_peak), g);
}

vec3 to_srgb(vec3 c) {
    c = clamp(c, 0.0, 1.0);
    return mix(12.92 * c, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
}

void main() {
    vec3 n = normalize(v_normal);
    vec3 v = normalize(-v_position);
    if (dot(n, v) < 0.0) n = -n;  // thin or open parts seen from behind
    vec3 color = u_ior > 0.0 ? shade_gem(n, v) : shade_metal(n, v);
    f_color = vec4(to_srgb(pbr_neutral(color * u_exposure)), 1.0);  // MSAA resolve turns coverage into alpha
}
