/* Payload parsing for frames from an untrusted peer: every read is bounds-checked. */
#include "wire.h"
#include <stdlib.h>
#include <string.h>

void rd_init(rd_t *r, const uint8_t *p, uint32_t len) {
  r->p = p;
  r->len = len;
  r->pos = 0;
  r->ok = 1;
}

static const uint8_t *take(rd_t *r, uint32_t n) {
  if (!r->ok || r->len - r->pos < n) {
    r->ok = 0;
    return NULL;
  }
  const uint8_t *at = r->p + r->pos;
  r->pos += n;
  return at;
}

uint32_t le32(const uint8_t *p) { return p[0] | (p[1] << 8) | (p[2] << 16) | ((uint32_t)p[3] << 24); }

uint8_t get_u8(rd_t *r) {
  const uint8_t *p = take(r, 1);
  return p ? p[0] : 0;
}

uint16_t get_u16(rd_t *r) {
  const uint8_t *p = take(r, 2);
  return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}

uint32_t get_u32(rd_t *r) {
  const uint8_t *p = take(r, 4);
  return p ? le32(p) : 0;
}

uint64_t get_u64(rd_t *r) {
  const uint8_t *p = take(r, 8);
  return p ? ((uint64_t)le32(p + 4) << 32) | le32(p) : 0;
}

wchar_t *get_wstr(rd_t *r, uint32_t max_bytes) {
  uint32_t n = get_u32(r);
  if (!r->ok || n > max_bytes) {
    r->ok = 0;
    return NULL;
  }
  const uint8_t *s = take(r, n);
  if (!s || memchr(s, 0, n)) {
    r->ok = 0;
    return NULL;
  }
  int wn = n ? MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, (const char *)s, (int)n, NULL, 0) : 0;
  if (n && wn <= 0) {
    r->ok = 0; /* not UTF-8: a peer bug we report, never guess at */
    return NULL;
  }
  wchar_t *w = malloc(((size_t)wn + 1) * sizeof(wchar_t));
  if (!w) {
    r->ok = 0;
    return NULL;
  }
  if (n) MultiByteToWideChar(CP_UTF8, 0, (const char *)s, (int)n, w, wn);
  w[wn] = 0;
  return w;
}

int rd_done(rd_t *r) { return r->ok && r->pos == r->len; }

static void grow(wr_t *w, uint32_t n) {
  if (w->failed) return;
  if (w->len + n > w->cap) {
    uint32_t cap = w->cap ? w->cap : 64;
    while (cap < w->len + n) cap *= 2;
    uint8_t *p = realloc(w->p, cap);
    if (!p) {
      w->failed = 1;
      return;
    }
    w->p = p;
    w->cap = cap;
  }
}

void put_bytes(wr_t *w, const void *p, uint32_t n) {
  grow(w, n);
  if (w->failed) return;
  if (n) memcpy(w->p + w->len, p, n);
  w->len += n;
}

void put_u8(wr_t *w, uint8_t v) { put_bytes(w, &v, 1); }

void put_u16(wr_t *w, uint16_t v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  put_bytes(w, b, 2);
}

void put_u32(wr_t *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  put_bytes(w, b, 4);
}

void put_u64(wr_t *w, uint64_t v) {
  put_u32(w, (uint32_t)v);
  put_u32(w, (uint32_t)(v >> 32));
}

void put_str(wr_t *w, const char *s) {
  uint32_t n = (uint32_t)strlen(s);
  put_u32(w, n);
  put_bytes(w, s, n);
}

void put_wstr(wr_t *w, const wchar_t *s) {
  int n = WideCharToMultiByte(CP_UTF8, 0, s, -1, NULL, 0, NULL, NULL);
  if (n <= 1) {
    put_u32(w, 0);
    return;
  }
  char *u = malloc((size_t)n);
  if (!u) {
    w->failed = 1;
    return;
  }
  WideCharToMultiByte(CP_UTF8, 0, s, -1, u, n, NULL, NULL);
  put_str(w, u);
  free(u);
}

void wr_free(wr_t *w) {
  free(w->p);
  w->p = NULL;
  w->len = w->cap = 0;
}
