// Single-precision GEMM for TensorFlow.js's wasm backend, in WebAssembly SIMD128, compiled by
// scripts/build-wasm-kernels.sh into gemm.wasm (shared memory) and gemm-nothreads.wasm.
//
// The module imports the tfjs wasm backend's own memory, so it reads and writes tensors where
// they lie on that heap: no copies. Why our own product at all: XNNPACK (what tfjs calls) packs
// the right-hand operand into its own layout at every call with a new tensor, single-threaded at
// ~10 ns per element; in training every weight is new at every step, so a dense layer's forward
// product spends about as long packing its weight matrix as multiplying. Here the weight is read
// in place, a small panel at a time (KC x 8 floats, copied into an L1-sized buffer), so the
// "packing" is a streaming copy of each element once.
//
// It uses no stack and no static data (the linker's stack and data areas would otherwise land
// in the tfjs heap): every temporary is a wasm local, scratch space comes from the caller.
#include <wasm_simd128.h>

#define KC 256

// C[m0:m1, n0:n1] = A[m0:m1, :] * B[:, n0:n1]; A is [M,K] (row stride lda), B [K,N] (ldb),
// C [M,N] (ldc), all float32 row-major. `pack` holds KC*8 floats (16-byte aligned). Columns are
// taken in panels of 8 (the last one zero-padded in `pack`), rows in blocks of 4.
__attribute__((export_name("gemm"))) void gemm(const float *A, const float *B, float *C, int M, int K, int N, int lda, int ldb, int ldc, int n0,
                                                int n1, float *pack) {
  (void)N;
  for (int k0 = 0; k0 < K; k0 += KC) {
    const int kc = K - k0 < KC ? K - k0 : KC;
    for (int j0 = n0; j0 < n1; j0 += 8) {
      const int nr = n1 - j0 < 8 ? n1 - j0 : 8;
      // Pack B[k0:k0+kc, j0:j0+nr] into pack[kc][8].
      if (nr == 8) {
        for (int k = 0; k < kc; k++) {
          const float *b = B + (long)(k0 + k) * ldb + j0;
          wasm_v128_store(pack + 8 * k, wasm_v128_load(b));
          wasm_v128_store(pack + 8 * k + 4, wasm_v128_load(b + 4));
        }
      } else {
        for (int k = 0; k < kc; k++) {
          const float *b = B + (long)(k0 + k) * ldb + j0;
          for (int j = 0; j < 8; j++) pack[8 * k + j] = j < nr ? b[j] : 0.0f;
        }
      }
      int i = 0;
      for (; i + 4 <= M; i += 4) {
        const float *a0 = A + (long)i * lda + k0;
        const float *a1 = a0 + lda;
        const float *a2 = a1 + lda;
        const float *a3 = a2 + lda;
        v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        const float *p = pack;
        for (int k = 0; k < kc; k++, p += 8) {
          const v128_t b0 = wasm_v128_load(p);
          const v128_t b1 = wasm_v128_load(p + 4);
          v128_t a = wasm_f32x4_splat(a0[k]);
          c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a, b0));
          c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a, b1));
          a = wasm_f32x4_splat(a1[k]);
          c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a, b0));
          c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a, b1));
          a = wasm_f32x4_splat(a2[k]);
          c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a, b0));
          c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a, b1));
          a = wasm_f32x4_splat(a3[k]);
          c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a, b0));
          c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a, b1));
        }
        float *c = C + (long)i * ldc + j0;
        if (nr == 8) {
          if (k0 > 0) {
            c00 = wasm_f32x4_add(c00, wasm_v128_load(c));
            c01 = wasm_f32x4_add(c01, wasm_v128_load(c + 4));
            c10 = wasm_f32x4_add(c10, wasm_v128_load(c + ldc));
            c11 = wasm_f32x4_add(c11, wasm_v128_load(c + ldc + 4));
            c20 = wasm_f32x4_add(c20, wasm_v128_load(c + 2 * ldc));
            c21 = wasm_f32x4_add(c21, wasm_v128_load(c + 2 * ldc + 4));
            c30 = wasm_f32x4_add(c30, wasm_v128_load(c + 3 * ldc));
            c31 = wasm_f32x4_add(c31, wasm_v128_load(c + 3 * ldc + 4));
          }
          wasm_v128_store(c, c00);
          wasm_v128_store(c + 4, c01);
          wasm_v128_store(c + ldc, c10);
          wasm_v128_store(c + ldc + 4, c11);
          wasm_v128_store(c + 2 * ldc, c20);
          wasm_v128_store(c + 2 * ldc + 4, c21);
          wasm_v128_store(c + 3 * ldc, c30);
          wasm_v128_store(c + 3 * ldc + 4, c31);
        } else {
          // Edge panel: lane by lane (no stack arrays: extract lanes with constant indices).
#define PUT(row, v0, v1)                                                                                                                             \
  {                                                                                                                                                    \
    float *r = c + (row) * ldc;                                                                                                                        \
    const float add = k0 > 0;                                                                                                                          \
    if (nr > 0) r[0] = wasm_f32x4_extract_lane(v0, 0) + add * r[0];                                                                                   \
    if (nr > 1) r[1] = wasm_f32x4_extract_lane(v0, 1) + add * r[1];                                                                                   \
    if (nr > 2) r[2] = wasm_f32x4_extract_lane(v0, 2) + add * r[2];                                                                                   \
    if (nr > 3) r[3] = wasm_f32x4_extract_lane(v0, 3) + add * r[3];                                                                                   \
    if (nr > 4) r[4] = wasm_f32x4_extract_lane(v1, 0) + add * r[4];                                                                                   \
    if (nr > 5) r[5] = wasm_f32x4_extract_lane(v1, 1) + add * r[5];                                                                                   \
    if (nr > 6) r[6] = wasm_f32x4_extract_lane(v1, 2) + add * r[6];                                                                                   \
  }
          PUT(0, c00, c01) PUT(1, c10, c11) PUT(2, c20, c21) PUT(3, c30, c31)
        }
      }
      for (; i < M; i++) {
        const float *a0 = A + (long)i * lda + k0;
        v128_t c00 = wasm_f32x4_splat(0), c01 = c00;
        const float *p = pack;
        for (int k = 0; k < kc; k++, p += 8) {
          const v128_t a = wasm_f32x4_splat(a0[k]);
          c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a, wasm_v128_load(p)));
          c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a, wasm_v128_load(p + 4)));
        }
        float *c = C + (long)i * ldc + j0;
        if (nr == 8) {
          if (k0 > 0) {
            c00 = wasm_f32x4_add(c00, wasm_v128_load(c));
            c01 = wasm_f32x4_add(c01, wasm_v128_load(c + 4));
          }
          wasm_v128_store(c, c00);
          wasm_v128_store(c + 4, c01);
        } else {
          PUT(0, c00, c01)
        }
      }
    }
  }
}
