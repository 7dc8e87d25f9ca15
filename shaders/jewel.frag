#version 330
// Jewelry shading, everything in the OpenCV camera frame: x right, y down, z forward (into the scene).
// Defines injected by the loader after #version:
//   N_LIGHTS  the direct lights (studio key, fill, rim, bounce)
//   MATERIAL  which kind this program draws: 0 metals (and plain dielectrics), 1 faceted gems, 2 pearls
// (The "plain" look that the gallery compares against is pyrender's own stock PBR: tryon.render.reference.)
//
// Photo-real shading:
//   - light from the room: u_env is an equirectangular map made from the camera frame (tryon.render.
//     environment), prefiltered by roughness into its mip levels; u_sh nine spherical-harmonic irradiance
//     coefficients of it for diffuse light; u_light_tint the room's colour for the direct lights;
//   - metals: GGX microfacets with each metal's F0 (split-sum environment term plus direct lights);
//   - gems: a Fresnel reflection off the facet; the light that enters is refracted with one index per colour
//     channel (dispersion: fire), sent back out by the pavilion (total internal reflection, approximated
//     by mirroring the refracted ray), and picks up a field of small bright sources (sparkle), which a facet
//     catches or loses as the stone turns;
//   - pearls: nacre's soft body light (wrapped SH diffuse), a sharp lustre reflection and the rainbow
//     overtone ("orient") at grazing angles;
//   - Khronos PBR Neutral tone mapping (product colours stay true) and sRGB output.

uniform vec3 u_base_color;   // linear RGB: F0 for metals, body colour for gems, pearls and other dielectrics
uniform float u_metallic;
uniform float u_roughness;
uniform float u_ior;         // gems only (0 otherwise)
uniform float u_dispersion;  // gems only: n(red) - n(blue)
uniform float u_exposure;
uniform vec3 u_light_dir[N_LIGHTS];     // direction the light travels, camera frame
uniform vec3 u_light_color[N_LIGHTS];   // linear radiance scale
uniform sampler2D u_env;     // equirectangular radiance, mip k blurred to ~2^k texels
uniform float u_env_lods;    // its highest mip level
uniform vec3 u_sh[9];        // irradiance SH coefficients
uniform vec3 u_light_tint;   // the room's colour at luminance 1

in vec3 v_position;
in vec3 v_normal;
#ifdef TINTED
in vec3 v_tint;             // a photo piece's detail (tryon.render.scene.Part.tint)
#endif
out vec4 f_color;
vec3 base_color;            // u_base_color, times the tint where there is one (set first in main)

const float PI = 3.14159265;
const float FIRE_SPREAD = 5.0;

vec3 fresnel_schlick(vec3 f0, float cos_theta) {
    return f0 + (1.0 - f0) * pow(1.0 - cos_theta, 5.0);
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

vec3 light_color(int i) {
    return u_light_color[i] * u_light_tint;
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
        sum += light_color(i) * f * ggx(max(dot(n, h), 0.0), r) * smith_visibility(n_dot_v, n_dot_l, r) * n_dot_l;
    }
    return sum;
}

vec3 direct_diffuse(vec3 n) {
    vec3 sum = vec3(0.0);
    for (int i = 0; i < N_LIGHTS; ++i) {
        sum += light_color(i) * max(dot(n, -normalize(u_light_dir[i])), 0.0) / PI;
    }
    return sum;
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

// Karis' analytic fit of the split-sum environment BRDF (scale, bias).
vec2 env_brdf(float n_dot_v, float roughness) {
    vec4 c0 = vec4(-1.0, -0.0275, -0.572, 0.022);
    vec4 c1 = vec4(1.0, 0.0425, 1.04, -0.04);
    vec4 r = roughness * c0 + c1;
    float a004 = min(r.x * r.x, exp2(-9.28 * n_dot_v)) * r.x + r.y;
    return vec2(-1.04, 1.04) * a004 + r.zw;
}

// The room's radiance along d, blurred for a GGX lobe of this roughness (the map's mip for its width).
vec3 environment(vec3 d, float roughness) {
    vec2 uv = vec2(atan(d.x, d.z) / (2.0 * PI) + 0.5, acos(clamp(-d.y, -1.0, 1.0)) / PI);
    float lobe_deg = 57.3 * (0.02 + 0.6 * roughness);  // the lobe's width (and the room's own blur)
    float lod = clamp(log2(max(lobe_deg / 2.8, 1.0)), 0.0, u_env_lods);  // a level-0 texel is 2.8 degrees
    return textureLod(u_env, uv, lod).rgb;
}

vec3 irradiance(vec3 n) {
    float x = n.x, y = n.y, z = n.z;
    vec3 e = u_sh[0] * 0.282095
        + u_sh[1] * 0.488603 * y + u_sh[2] * 0.488603 * z + u_sh[3] * 0.488603 * x
        + u_sh[4] * 1.092548 * x * y + u_sh[5] * 1.092548 * y * z + u_sh[6] * 0.315392 * (3.0 * z * z - 1.0)
        + u_sh[7] * 1.092548 * x * z + u_sh[8] * 0.546274 * (x * x - y * y);
    return max(e, vec3(0.0));
}

vec3 shade_metal(vec3 n, vec3 v) {
    float n_dot_v = max(dot(n, v), 1e-4);
    vec3 f0 = mix(vec3(0.04), base_color, u_metallic);
    vec2 ab = env_brdf(n_dot_v, u_roughness);
    vec3 spec = environment(reflect(-v, n), u_roughness) * (f0 * ab.x + ab.y);
    vec3 diffuse = (1.0 - u_metallic) * base_color * (irradiance(n) / PI + direct_diffuse(n) * 0.3);
    return diffuse + spec + direct_specular(n, v, f0, u_roughness);
}

// Integer hash (Jarzynski and Olano 2020, pcg3d) -> three values in [0, 1).
vec3 hash3(vec3 p) {
    uvec3 v = uvec3(ivec3(p) + 65536) * 1664525u + 1013904223u;
    v.x += v.y * v.z; v.y += v.z * v.x; v.z += v.x * v.y;
    v ^= v >> 16u;
    v.x += v.y * v.z; v.y += v.z * v.x; v.z += v.x * v.y;
    return vec3(v) * (1.0 / 4294967296.0);
}

// A field of small bright sources round the stone (lamps, windows, their reflections): about one in
// three cells of a grid over directions holds one. A facet sends one direction out to the viewer, so it
// flashes when that direction meets a source, and the flash comes and goes as the stone or head turns.
float sparkle(vec3 d) {
    vec3 p = d * 14.0;
    vec3 cell = floor(p);
    vec3 h = hash3(cell);
    if (h.z > 0.35) return 0.0;
    vec3 star = cell + 0.2 + 0.6 * hash3(cell + 17.0);
    return smoothstep(0.42, 0.0, length(p - star)) * (0.5 + 1.5 * h.x);
}

vec3 shade_gem(vec3 n, vec3 v) {
    float n_dot_v = max(dot(n, v), 1e-4);
    float f0 = pow((u_ior - 1.0) / (u_ior + 1.0), 2.0);
    float fr = f0 + (1.0 - f0) * pow(1.0 - n_dot_v, 5.0);
    vec3 reflected = environment(reflect(-v, n), 0.0) * fr;
    vec3 body = vec3(0.0);
    vec3 fire = vec3(0.0);
    for (int c = 0; c < 3; ++c) {
        // Red refracts least, blue most. A ray leaves a brilliant after several internal reflections,
        // each of which widens the colours' split: FIRE_SPREAD times a single refraction's.
        float ior = u_ior + FIRE_SPREAD * u_dispersion * (float(c) - 1.0) * -0.5;
        vec3 t = refract(-v, n, 1.0 / ior);
        vec3 back = reflect(t, -n);  // the pavilion sends it back out, steeply (total internal reflection)
        vec3 out_dir = normalize(back + 0.6 * (t - dot(t, n) * n) * ior);
        body[c] = environment(out_dir, 0.0)[c];
        // High dispersion spreads the channels over different sources: coloured flashes.
        fire[c] = sparkle(out_dir);
    }
    // A cut stone returns the room's light with more contrast than the room has (the dark of the viewer's
    // own head, the bright of lamps) and little of its colour: a white card facing the viewer, brightened,
    // patterned by the room's luminance along each facet's way out, faintly in the room's hue.
    const vec3 W = vec3(0.2126, 0.7152, 0.0722);
    float level = max(dot(u_sh[0], W) * 0.282095 / PI, 1e-3);  // the room's mean radiance
    float white = dot(irradiance(v), W) / PI;
    float lum = dot(body, W);
    float pattern = clamp(lum / level, 0.5, 3.0);
    vec3 hue = mix(vec3(1.0), body / max(lum, 1e-4), 0.35);
    body = white * 0.8 * pattern * pattern * hue;
    vec3 sparkle_light = 16.0 * u_light_tint * white * fire;
    vec3 glint = direct_specular(n, v, vec3(f0), 0.02);
    return (1.0 - fr) * (body + sparkle_light) * base_color * 1.1 + reflected + glint;
}

vec3 shade_pearl(vec3 n, vec3 v) {
    float n_dot_v = max(dot(n, v), 1e-4);
    // Light scattered inside the nacre's layers reaches round the terminator: wrapped diffuse.
    vec3 wrapped = mix(irradiance(n), irradiance(normalize(n + v)), 0.35) / PI;
    vec3 body = base_color * (wrapped + direct_diffuse(n) * 0.35);
    // Orient: thin-film interference in the nacre, rose and green toward the rim.
    float film = 2.2 * (1.0 - n_dot_v) + 0.15;
    vec3 orient = 1.0 + 0.10 * cos(2.0 * PI * (film + vec3(0.0, 0.33, 0.67))) * (1.0 - n_dot_v);
    // Lustre: a sharp, strong reflection of the room and the lights off the smooth nacre.
    float fr = 0.05 + 0.95 * pow(1.0 - n_dot_v, 5.0);
    vec3 lustre = environment(reflect(-v, n), 0.12) * fr * 1.4 + direct_specular(n, v, vec3(0.05), 0.12) * 1.4;
    return body * orient * (1.0 - fr) + lustre;
}

void main() {
#ifdef TINTED
    // On metal the photo's detail darkens the whole shading (a cavity): scaling F0 alone would bend gold's
    // hue toward olive as the Fresnel rise whitens it. On other materials it is their colour.
    float on_metal = step(0.5, u_metallic);
    base_color = u_base_color * mix(v_tint, vec3(1.0), on_metal);
#else
    base_color = u_base_color;
#endif
    vec3 n = normalize(v_normal);
    vec3 v = normalize(-v_position);
    if (dot(n, v) < 0.0) n = -n;  // thin or open parts seen from behind
#if MATERIAL == 1
    vec3 color = shade_gem(n, v);
#elif MATERIAL == 2
    vec3 color = shade_pearl(n, v);
#else
    vec3 color = shade_metal(n, v);
#endif
#ifdef TINTED
    color *= mix(vec3(1.0), v_tint, on_metal);
#endif
    f_color = vec4(to_srgb(pbr_neutral(color * u_exposure)), 1.0);  // MSAA resolve turns coverage into alpha
}
