//! The WGSL source: the field, the Merkle kernels and the NTT are written by hand; the Poseidon permutation is
//! generated from plonky2's own constants, so the two cannot drift apart.

use std::fmt::Write;

use plonky2::field::goldilocks_field::GoldilocksField;
use plonky2::hash::poseidon::{
    ALL_ROUND_CONSTANTS, HALF_N_FULL_ROUNDS, N_PARTIAL_ROUNDS, Poseidon, SPONGE_WIDTH,
};

const FIELD: &str = include_str!("shaders/field.wgsl");
const MERKLE: &str = include_str!("shaders/merkle.wgsl");
const NTT: &str = include_str!("shaders/ntt.wgsl");

/// The whole module: field arithmetic, the permutation and the kernels.
pub(crate) fn source() -> String {
    format!("{FIELD}\n{}\n{MERKLE}\n{NTT}", poseidon())
}

fn limbs(x: u64) -> String {
    format!("vec2<u32>({:#x}u, {:#x}u)", x as u32, (x >> 32) as u32)
}

/// `permute` (the round constants from plonky2's table), and the MDS layer on 16-bit limbs:
/// its coefficients are below 2^6, so a row sums 13 products of 16-bit limbs in a u32 lane
/// and is reduced once, as plonky2's `mds_row_shf` sums in a u128.
fn poseidon() -> String {
    let circ = <GoldilocksField as Poseidon>::MDS_MATRIX_CIRC;
    let diag = <GoldilocksField as Poseidon>::MDS_MATRIX_DIAG;
    let mut s = String::new();
    s.push_str(
        "// Generated from plonky2's Poseidon constants (gpu/src/shader.rs).\n\
         fn combine_limbs(acc: vec4<u32>) -> vec2<u32> {\n\
         \x20   let w0 = acc.x + (acc.y << 16u);\n\
         \x20   let w1a = (acc.y >> 16u) + acc.z + select(0u, 1u, w0 < acc.x);\n\
         \x20   let w1 = w1a + (acc.w << 16u);\n\
         \x20   let w2 = (acc.w >> 16u) + select(0u, 1u, w1 < w1a);\n\
         \x20   return reduce96(vec2<u32>(w0, w1), w2);\n\
         }\n\n\
         fn mds(s: ptr<function, array<vec2<u32>, 12>>) {\n\
         \x20   var l: array<vec4<u32>, 12>;\n\
         \x20   for (var i = 0u; i < 12u; i++) {\n\
         \x20       let v = (*s)[i];\n\
         \x20       l[i] = vec4<u32>(v.x & 0xffffu, v.x >> 16u, v.y & 0xffffu, v.y >> 16u);\n\
         \x20   }\n",
    );
    for r in 0..SPONGE_WIDTH {
        let mut coeff = [0u64; SPONGE_WIDTH];
        for (i, c) in circ.iter().enumerate() {
            coeff[(i + r) % SPONGE_WIDTH] += c;
        }
        coeff[r] += diag[r];
        let terms: Vec<String> = coeff
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != 0)
            .map(|(j, c)| format!("l[{j}] * {c}u"))
            .collect();
        let _ = writeln!(s, "    (*s)[{r}] = combine_limbs({});", terms.join(" + "));
    }
    s.push_str(
        "}\n\n\
         fn sbox(x: vec2<u32>) -> vec2<u32> {\n\
         \x20   let x2 = gl_mul(x, x);\n\
         \x20   return gl_mul(gl_mul(x2, x), gl_mul(x2, x2));\n\
         }\n\n\
         fn permute(s: ptr<function, array<vec2<u32>, 12>>) {\n",
    );
    // The rounds loop rather than unroll: one copy of the round body keeps the kernels small,
    // which is what a shader compiler (a software one above all) spends its time on.
    let rounds = 2 * HALF_N_FULL_ROUNDS + N_PARTIAL_ROUNDS;
    let constants: Vec<String> = ALL_ROUND_CONSTANTS[..SPONGE_WIDTH * rounds]
        .iter()
        .map(|&c| limbs(c))
        .collect();
    let _ = write!(
        s,
        "    for (var round = 0u; round < {rounds}u; round++) {{\n\
         \x20       for (var i = 0u; i < 12u; i++) {{\n\
         \x20           (*s)[i] = gl_add((*s)[i], round_constants[round * 12u + i]);\n\
         \x20       }}\n\
         \x20       if round < {h}u || round >= {p}u {{\n\
         \x20           for (var i = 0u; i < 12u; i++) {{\n\
         \x20               (*s)[i] = sbox((*s)[i]);\n\
         \x20           }}\n\
         \x20       }} else {{\n\
         \x20           (*s)[0] = sbox((*s)[0]);\n\
         \x20       }}\n\
         \x20       mds(s);\n\
         \x20   }}\n\
         }}\n\n\
         var<private> round_constants: array<vec2<u32>, {n}> = array<vec2<u32>, {n}>(\n    {}\n);\n",
        constants.join(",\n    "),
        h = HALF_N_FULL_ROUNDS,
        p = HALF_N_FULL_ROUNDS + N_PARTIAL_ROUNDS,
        n = SPONGE_WIDTH * rounds,
    );
    s
}
