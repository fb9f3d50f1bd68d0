// Single-precision GEMM, convolution and convolution filter gradient for TensorFlow.js's wasm backend, in
// WebAssembly SIMD128, compiled by scripts/build-wasm-kernels.sh into gemm.wasm (shared memory)
// and gemm-nothreads.wasm.
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

// Stores an accumulated 1x8 block row at c (nr valid columns), adding what is there when `add`.
static inline void put_row(float *c, v128_t v0, v128_t v1, int nr, int add) {
  if (nr == 8) {
    if (add) {
      v0 = wasm_f32x4_add(v0, wasm_v128_load(c));
      v1 = wasm_f32x4_add(v1, wasm_v128_load(c + 4));
    }
    wasm_v128_store(c, v0);
    wasm_v128_store(c + 4, v1);
    return;
  }
  // (What is in c before the first block may be anything, NaN included: never read it then.)
  if (nr > 0) c[0] = wasm_f32x4_extract_lane(v0, 0) + (add ? c[0] : 0.0f);
  if (nr > 1) c[1] = wasm_f32x4_extract_lane(v0, 1) + (add ? c[1] : 0.0f);
  if (nr > 2) c[2] = wasm_f32x4_extract_lane(v0, 2) + (add ? c[2] : 0.0f);
  if (nr > 3) c[3] = wasm_f32x4_extract_lane(v0, 3) + (add ? c[3] : 0.0f);
  if (nr > 4) c[4] = wasm_f32x4_extract_lane(v1, 0) + (add ? c[4] : 0.0f);
  if (nr > 5) c[5] = wasm_f32x4_extract_lane(v1, 1) + (add ? c[5] : 0.0f);
  if (nr > 6) c[6] = wasm_f32x4_extract_lane(v1, 2) + (add ? c[6] : 0.0f);
}


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
          put_row(c, c00, c01, nr, k0 > 0);
          put_row(c + ldc, c10, c11, nr, k0 > 0);
          put_row(c + 2 * ldc, c20, c21, nr, k0 > 0);
          put_row(c + 3 * ldc, c30, c31, nr, k0 > 0);
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
          put_row(c, c00, c01, nr, k0 > 0);
        }
      }
    }
  }
}

#define RC 256

// The filter gradient of an NHWC convolution (dilation 1), transposed:
//   dwt[co][(ky*kw + kx)*Cin + ci] = sum_{b,oy,ox} x[b, oy*sh+ky-top, ox*sw+kx-left, ci] * dy[b,oy,ox,co]
// for the columns [j0, j1) (j0 a multiple of 8), every co. A GEMM dwt = dy^T . im2col(x) whose
// im2col panels (RC rows x 8 columns) are gathered straight from x into `scratch` (RC*8 floats,
// then 24 ints), summed over the B*oH*oW rows in blocks of RC so that each block of dy and each
// panel are reused from cache. XNNPACK's route (a convolution with dy as a huge filter) streams
// that whole filter once per few output rows.
__attribute__((export_name("conv_bpf"))) void conv_bpf(const float *x, const float *dy, float *dwt, int B, int H, int W, int Cin, int oH, int oW,
                                                        int Cout, int kh, int kw, int sh, int sw, int top, int left, int j0, int j1,
                                                        float *scratch) {
  const int KD = kh * kw * Cin;
  const int R = B * oH * oW;
  float *pack = scratch;
  int *tab = (int *)(scratch + RC * 8);
  const int contiguous = Cin % 8 == 0;
  for (int r0 = 0; r0 < R; r0 += RC) {
    const int rc = R - r0 < RC ? R - r0 : RC;
    const int add = r0 > 0;
    for (int jp = j0; jp < j1; jp += 8) {
      const int nr = j1 - jp < 8 ? j1 - jp : 8;
      for (int l = 0; l < 8; l++) {
        const int j = jp + (l < nr ? l : 0);
        const int t = j / Cin;
        tab[3 * l] = t / kw;
        tab[3 * l + 1] = t % kw;
        tab[3 * l + 2] = j % Cin;
      }
      // Gather the panel: pack[r][l] = im2col(x)[r0 + r][jp + l].
      int ox = r0 % oW;
      int q = r0 / oW;
      int oy = q % oH;
      int b = q / oH;
      for (int r = 0; r < rc; r++) {
        float *p = pack + 8 * r;
        const int ybase = oy * sh - top;
        const int xbase = ox * sw - left;
        if (contiguous) {
          const int iy = ybase + tab[0];
          const int ix = xbase + tab[1];
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
            const float *src = x + ((b * H + iy) * W + ix) * Cin + tab[2];
            wasm_v128_store(p, wasm_v128_load(src));
            wasm_v128_store(p + 4, wasm_v128_load(src + 4));
          } else {
            wasm_v128_store(p, wasm_f32x4_splat(0));
            wasm_v128_store(p + 4, wasm_f32x4_splat(0));
          }
        } else {
          for (int l = 0; l < 8; l++) {
            const int iy = ybase + tab[3 * l];
            const int ix = xbase + tab[3 * l + 1];
            p[l] = l < nr && iy >= 0 && iy < H && ix >= 0 && ix < W ? x[((b * H + iy) * W + ix) * Cin + tab[3 * l + 2]] : 0.0f;
          }
        }
        if (++ox == oW) {
          ox = 0;
          if (++oy == oH) {
            oy = 0;
            b++;
          }
        }
      }
      int i = 0;
      for (; i + 4 <= Cout; i += 4) {
        v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
        const float *a = dy + r0 * Cout + i;
        const float *p = pack;
        for (int k = 0; k < rc; k++, p += 8, a += Cout) {
          const v128_t va = wasm_v128_load(a);
          const v128_t b0 = wasm_v128_load(p);
          const v128_t b1 = wasm_v128_load(p + 4);
          v128_t s = wasm_i32x4_shuffle(va, va, 0, 0, 0, 0);
          c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(s, b0));
          c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(s, b1));
          s = wasm_i32x4_shuffle(va, va, 1, 1, 1, 1);
          c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(s, b0));
          c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(s, b1));
          s = wasm_i32x4_shuffle(va, va, 2, 2, 2, 2);
          c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(s, b0));
          c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(s, b1));
          s = wasm_i32x4_shuffle(va, va, 3, 3, 3, 3);
          c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(s, b0));
          c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(s, b1));
        }
        float *c = dwt + i * KD + jp;
        put_row(c, c00, c01, nr, add);
        put_row(c + KD, c10, c11, nr, add);
        put_row(c + 2 * KD, c20, c21, nr, add);
        put_row(c + 3 * KD, c30, c31, nr, add);
      }
      for (; i < Cout; i++) {
        v128_t c00 = wasm_f32x4_splat(0), c01 = c00;
        const float *a = dy + r0 * Cout + i;
        const float *p = pack;
        for (int k = 0; k < rc; k++, p += 8, a += Cout) {
          const v128_t s = wasm_f32x4_splat(*a);
          c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(s, wasm_v128_load(p)));
          c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(s, wasm_v128_load(p + 4)));
        }
        put_row(dwt + i * KD + jp, c00, c01, nr, add);
      }
    }
  }
}

// Packs a convolution filter w [KD = kh*kw*Cin, Cout] into panels of 8 output channels:
// wp[(p*KD + j)*8 + l] = w[j][8p + l] (zero beyond Cout). Done once per call; conv_fwd reads it.
__attribute__((export_name("pack_w"))) void pack_w(const float *w, float *wp, int KD, int Cout) {
  for (int p = 0; p * 8 < Cout; p++) {
    const int nr = Cout - 8 * p < 8 ? Cout - 8 * p : 8;
    float *dst = wp + p * KD * 8;
    const float *src = w + 8 * p;
    for (int j = 0; j < KD; j++, dst += 8, src += Cout) {
      if (nr == 8) {
        wasm_v128_store(dst, wasm_v128_load(src));
        wasm_v128_store(dst + 4, wasm_v128_load(src + 4));
      } else {
        for (int l = 0; l < 8; l++) dst[l] = l < nr ? src[l] : 0.0f;
      }
    }
  }
}

#define RB 64

// An NHWC convolution (dilation 1) for the output pixels r in [r_begin, r_end) of the B*oH*oW:
//   y[r][co] = sum_j im2col(x)[r][j] * w[j][co],  j = (ky*kw + kx)*Cin + ci,
// with w packed by pack_w. Blocks of RB pixels x KC taps of im2col are gathered into `scratch`
// (RB*KC floats) and multiplied with the packed weight panels, so every operand is reused from
// cache (XNNPACK streams the whole packed filter once per few output pixels).
__attribute__((export_name("conv_fwd"))) void conv_fwd(const float *x, const float *wp, float *y, int B, int H, int W, int Cin, int oH, int oW,
                                                        int Cout, int kh, int kw, int sh, int sw, int top, int left, int r_begin, int r_end,
                                                        float *scratch) {
  (void)B;
  const int KD = kh * kw * Cin;
  for (int rb0 = r_begin; rb0 < r_end; rb0 += RB) {
    const int rb = r_end - rb0 < RB ? r_end - rb0 : RB;
    for (int k0 = 0; k0 < KD; k0 += KC) {
      const int kc = KD - k0 < KC ? KD - k0 : KC;
      const int add = k0 > 0;
      // Gather im2col rows rb0.. (columns k0..k0+kc) into scratch[rr*KC + kk].
      int ox = rb0 % oW;
      int q = rb0 / oW;
      int oy = q % oH;
      int b = q / oH;
      for (int rr = 0; rr < rb; rr++) {
        float *dst = scratch + rr * KC;
        int j = k0;
        while (j < k0 + kc) {
          const int t = j / Cin;
          const int ci = j - t * Cin;
          const int ky = t / kw;
          const int kx = t - ky * kw;
          int run = Cin - ci;
          if (run > k0 + kc - j) run = k0 + kc - j;
          const int iy = oy * sh - top + ky;
          const int ix = ox * sw - left + kx;
          float *d = dst + (j - k0);
          if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
            const float *src = x + ((b * H + iy) * W + ix) * Cin + ci;
            int m = 0;
            for (; m + 4 <= run; m += 4) wasm_v128_store(d + m, wasm_v128_load(src + m));
            for (; m < run; m++) d[m] = src[m];
          } else {
            for (int m = 0; m < run; m++) d[m] = 0.0f;
          }
          j += run;
        }
        if (++ox == oW) {
          ox = 0;
          if (++oy == oH) {
            oy = 0;
            b++;
          }
        }
      }
      for (int p = 0; p * 8 < Cout; p++) {
        const int nr = Cout - 8 * p < 8 ? Cout - 8 * p : 8;
        const float *bp = wp + (p * KD + k0) * 8;
        int i = 0;
        for (; i + 4 <= rb; i += 4) {
          const float *a0 = scratch + i * KC;
          const float *a1 = a0 + KC;
          const float *a2 = a1 + KC;
          const float *a3 = a2 + KC;
          v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
          const float *pb = bp;
          for (int k = 0; k < kc; k++, pb += 8) {
            const v128_t b0 = wasm_v128_load(pb);
            const v128_t b1 = wasm_v128_load(pb + 4);
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
          float *c = y + (rb0 + i) * Cout + 8 * p;
          put_row(c, c00, c01, nr, add);
          put_row(c + Cout, c10, c11, nr, add);
          put_row(c + 2 * Cout, c20, c21, nr, add);
          put_row(c + 3 * Cout, c30, c31, nr, add);
        }
        for (; i < rb; i++) {
          const float *a0 = scratch + i * KC;
          v128_t c00 = wasm_f32x4_splat(0), c01 = c00;
          const float *pb = bp;
          for (int k = 0; k < kc; k++, pb += 8) {
            const v128_t a = wasm_f32x4_splat(a0[k]);
            c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a, wasm_v128_load(pb)));
            c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a, wasm_v128_load(pb + 4)));
          }
          put_row(y + (rb0 + i) * Cout + 8 * p, c00, c01, nr, add);
        }
      }
    }
  }
}

// ---- Training-mode BatchNorm (+ ReLU) over the last axis of x [rows, C] (see batch-norm-relu.ts) ----
// Statistics are float64 sums over a range of rows [r0, r1), accumulated in `out` (2·C doubles, zeroed
// here); the caller splits the rows at a fixed place and adds the two halves, so the result does not
// depend on the thread count. The per-element passes are split by rows at any place.

static inline v128_t f64_lo(v128_t v) { return wasm_f64x2_promote_low_f32x4(v); }
static inline v128_t f64_hi(v128_t v) { return wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 2, 3)); }

// out[2c] = Σ x[r][c], out[2c+1] = Σ x[r][c]² (interleaved as [Σ0 Σ1 Σ2 Σ3 | Q0 Q1 Q2 Q3] per 4 channels).
__attribute__((export_name("bn_stats"))) void bn_stats(const float *x, double *out, int rows, int C, int r0, int r1, float *scratch) {
  (void)rows;
  (void)scratch;
  for (int c = 0; c < 2 * C; c++) out[c] = 0;
  const int C4 = C & ~3;
  for (int r = r0; r < r1; r++) {
    const float *p = x + (long)r * C;
    double *o = out;
    for (int c = 0; c < C4; c += 4, o += 8) {
      const v128_t v = wasm_v128_load(p + c);
      const v128_t lo = f64_lo(v), hi = f64_hi(v);
      wasm_v128_store(o, wasm_f64x2_add(wasm_v128_load(o), lo));
      wasm_v128_store(o + 2, wasm_f64x2_add(wasm_v128_load(o + 2), hi));
      wasm_v128_store(o + 4, wasm_f64x2_add(wasm_v128_load(o + 4), wasm_f64x2_mul(lo, lo)));
      wasm_v128_store(o + 6, wasm_f64x2_add(wasm_v128_load(o + 6), wasm_f64x2_mul(hi, hi)));
    }
    for (int c = C4; c < C; c++) {
      const double v = p[c];
      out[2 * c] += v;
      out[2 * c + 1] += v * v;
    }
  }
}

// y = (x - mean)·scale + beta, then max(0, ·) when relu; rows [r0, r1).
__attribute__((export_name("bn_apply"))) void bn_apply(const float *x, float *y, const float *mean, const float *scale, const float *beta, int C, int relu,
                                                        int r0, int r1, float *scratch) {
  (void)scratch;
  const int C4 = C & ~3;
  const v128_t zero = wasm_f32x4_splat(0);
  for (int r = r0; r < r1; r++) {
    const float *p = x + (long)r * C;
    float *q = y + (long)r * C;
    for (int c = 0; c < C4; c += 4) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(p + c), wasm_v128_load(mean + c)), wasm_v128_load(scale + c)), wasm_v128_load(beta + c));
      if (relu) v = wasm_f32x4_pmax(v, zero);
      wasm_v128_store(q + c, v);
    }
    for (int c = C4; c < C; c++) {
      const float v = (p[c] - mean[c]) * scale[c] + beta[c];
      q[c] = relu && v < 0 ? 0.0f : v;
    }
  }
}

// With dz = dy where y > 0 (relu) or dy: out[2c] = Σ dz, out[2c+1] = Σ dz·(x - mean) (same layout as bn_stats).
__attribute__((export_name("bn_grad_stats"))) void bn_grad_stats(const float *dy, const float *x, const float *y, const float *mean, double *out, int C, int relu,
                                                                  int r0, int r1, float *scratch) {
  (void)scratch;
  for (int c = 0; c < 2 * C; c++) out[c] = 0;
  const int C4 = C & ~3;
  const v128_t zero = wasm_f32x4_splat(0);
  for (int r = r0; r < r1; r++) {
    const long off = (long)r * C;
    double *o = out;
    for (int c = 0; c < C4; c += 4, o += 8) {
      v128_t d = wasm_v128_load(dy + off + c);
      if (relu) d = wasm_v128_and(d, wasm_f32x4_gt(wasm_v128_load(y + off + c), zero));
      const v128_t xc = wasm_f32x4_sub(wasm_v128_load(x + off + c), wasm_v128_load(mean + c));
      const v128_t dlo = f64_lo(d), dhi = f64_hi(d);
      wasm_v128_store(o, wasm_f64x2_add(wasm_v128_load(o), dlo));
      wasm_v128_store(o + 2, wasm_f64x2_add(wasm_v128_load(o + 2), dhi));
      wasm_v128_store(o + 4, wasm_f64x2_add(wasm_v128_load(o + 4), wasm_f64x2_mul(dlo, f64_lo(xc))));
      wasm_v128_store(o + 6, wasm_f64x2_add(wasm_v128_load(o + 6), wasm_f64x2_mul(dhi, f64_hi(xc))));
    }
    for (int c = C4; c < C; c++) {
      const double d = relu && !(y[off + c] > 0) ? 0.0 : dy[off + c];
      out[2 * c] += d;
      out[2 * c + 1] += d * (double)(x[off + c] - mean[c]);
    }
  }
}

// dx = ka·(dz - kc) + kb·(x - mean), k = [ka | kb | kc] (3·C floats); rows [r0, r1).
__attribute__((export_name("bn_grad_apply"))) void bn_grad_apply(const float *dy, const float *x, const float *y, const float *mean, const float *k, float *dx, int C,
                                                                  int relu, int r0, int r1, float *scratch) {
  (void)scratch;
  const int C4 = C & ~3;
  const v128_t zero = wasm_f32x4_splat(0);
  const float *ka = k, *kb = k + C, *kc = k + 2 * C;
  for (int r = r0; r < r1; r++) {
    const long off = (long)r * C;
    for (int c = 0; c < C4; c += 4) {
      v128_t d = wasm_v128_load(dy + off + c);
      if (relu) d = wasm_v128_and(d, wasm_f32x4_gt(wasm_v128_load(y + off + c), zero));
      const v128_t xc = wasm_f32x4_sub(wasm_v128_load(x + off + c), wasm_v128_load(mean + c));
      const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(ka + c), wasm_f32x4_sub(d, wasm_v128_load(kc + c))), wasm_f32x4_mul(wasm_v128_load(kb + c), xc));
      wasm_v128_store(dx + off + c, v);
    }
    for (int c = C4; c < C; c++) {
      const float d = relu && !(y[off + c] > 0) ? 0.0f : dy[off + c];
      dx[off + c] = ka[c] * (d - kc[c]) + kb[c] * (x[off + c] - mean[c]);
    }
  }
}

// ---- One SGD-with-momentum update (see sgd.ts), elements [i0, i1) ----
// g' = g + wd·p; b' = m·buf + g' (no buffer yet: b' = g'); step = nesterov ? g' + m·b' : b'; p' = p − lr·step.
// Each product and sum is rounded to float32 as the op sequence rounds it (wasm has no fused
// multiply-add), so the result is bit-identical to it. Float arguments arrive as their bit patterns.
static inline float from_bits(int b) { return __builtin_bit_cast(float, b); }

__attribute__((export_name("sgd_step"))) void sgd_step(const float *p, const float *g, const float *buf, float *pOut, float *bOut, int lrBits, int mBits,
                                                        int wdBits, int flags, int i0, int i1, float *scratch) {
  (void)scratch;
  const float lr = from_bits(lrBits), m = from_bits(mBits), wd = from_bits(wdBits);
  const int nesterov = flags & 1, hasBuf = flags & 2, decay = wd > 0;
  const v128_t vlr = wasm_f32x4_splat(lr), vm = wasm_f32x4_splat(m), vwd = wasm_f32x4_splat(wd);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    const v128_t pv = wasm_v128_load(p + i);
    v128_t gv = wasm_v128_load(g + i);
    if (decay) gv = wasm_f32x4_add(gv, wasm_f32x4_mul(pv, vwd));
    const v128_t b = hasBuf ? wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(buf + i), vm), gv) : gv;
    wasm_v128_store(bOut + i, b);
    const v128_t step = nesterov ? wasm_f32x4_add(gv, wasm_f32x4_mul(b, vm)) : b;
    wasm_v128_store(pOut + i, wasm_f32x4_sub(pv, wasm_f32x4_mul(step, vlr)));
  }
  for (; i < i1; i++) {
    float gi = g[i];
    if (decay) gi = gi + p[i] * wd;
    const float b = hasBuf ? buf[i] * m + gi : gi;
    bOut[i] = b;
    const float step = nesterov ? gi + b * m : b;
    pOut[i] = p[i] - step * lr;
  }
}

// ---- MaxPoolGrad (see max-pool-grad.ts), NHWC, images [b0, b1) ----
// dx[p] = Σ dy over the windows whose FIRST maximum (row-major scan, strictly greater wins) is at p.
// Four channels at a time: the running maximum and its index are vectors, the scatter-add is per lane.
// Windows never cross images, so a split by images writes disjoint parts of dx.
__attribute__((export_name("maxpool_grad"))) void maxpool_grad(const float *x, const float *dy, float *dx, int H, int W, int C, int oH, int oW, int fh, int fw,
                                                                int sh, int sw, int top, int left, int b0, int b1, float *scratch) {
  (void)scratch;
  const long plane = (long)H * W * C;
  for (long i = (long)b0 * plane; i < (long)b1 * plane; i++) dx[i] = 0;
  const int C4 = C & ~3;
  const v128_t ninf = wasm_f32x4_splat(-__builtin_inff());
  const v128_t lanes = wasm_i32x4_make(0, 1, 2, 3);
  for (int b = b0; b < b1; b++) {
    const long base = (long)b * plane;
    const float *g = dy + (long)b * oH * oW * C;
    for (int oy = 0; oy < oH; oy++) {
      const int y0 = oy * sh - top;
      const int yMin = y0 < 0 ? 0 : y0, yMax = y0 + fh > H ? H : y0 + fh;
      for (int ox = 0; ox < oW; ox++, g += C) {
        const int x0 = ox * sw - left;
        const int xMin = x0 < 0 ? 0 : x0, xMax = x0 + fw > W ? W : x0 + fw;
        for (int c = 0; c < C4; c += 4) {
          v128_t best = ninf, where = wasm_i32x4_splat(-1);
          for (int y = yMin; y < yMax; y++) {
            int p = (int)(base + ((long)y * W + xMin) * C + c);
            for (int xx = xMin; xx < xMax; xx++, p += C) {
              const v128_t v = wasm_v128_load(x + p);
              const v128_t m = wasm_f32x4_gt(v, best);
              best = wasm_v128_bitselect(v, best, m);
              where = wasm_v128_bitselect(wasm_i32x4_add(wasm_i32x4_splat(p), lanes), where, m);
            }
          }
          const int w0 = wasm_i32x4_extract_lane(where, 0), w1 = wasm_i32x4_extract_lane(where, 1);
          const int w2 = wasm_i32x4_extract_lane(where, 2), w3 = wasm_i32x4_extract_lane(where, 3);
          if (w0 >= 0) dx[w0] += g[c];
          if (w1 >= 0) dx[w1] += g[c + 1];
          if (w2 >= 0) dx[w2] += g[c + 2];
          if (w3 >= 0) dx[w3] += g[c + 3];
        }
        for (int c = C4; c < C; c++) {
          float best = -__builtin_inff();
          int where = -1;
          for (int y = yMin; y < yMax; y++) {
            int p = (int)(base + ((long)y * W + xMin) * C + c);
            for (int xx = xMin; xx < xMax; xx++, p += C) {
              if (x[p] > best) {
                best = x[p];
                where = p;
              }
            }
          }
          if (where >= 0) dx[where] += g[c];
        }
      }
    }
  }
}
