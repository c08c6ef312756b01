/* Bounded readers and writers of frame payloads (little-endian, strings as u32 length + UTF-8). */
#ifndef AGENT_WIRE_H
#define AGENT_WIRE_H
#include <windows.h>
#include <stdint.h>

/* A cursor over one payload. Every get_* fails (returns 0) once anything was
 * out of bounds, so a parser checks `ok` once at the end instead of after each field. */
typedef struct {
  const uint8_t *p;
  uint32_t len, pos;
  int ok;
} rd_t;

void rd_init(rd_t *r, const uint8_t *p, uint32_t len);
uint8_t get_u8(rd_t *r);
uint16_t get_u16(rd_t *r);
uint32_t get_u32(rd_t *r);
uint64_t get_u64(rd_t *r);
/* A UTF-8 string converted to a new NUL-terminated UTF-16 string (free()).
 * Refuses invalid UTF-8, embedded NULs and more than max_bytes bytes. */
wchar_t *get_wstr(rd_t *r, uint32_t max_bytes);
/* True when the whole payload was consumed and every read was in bounds. */
int rd_done(rd_t *r);

/* A growable payload under construction; `failed` is set on allocation failure. */
typedef struct {
  uint8_t *p;
  uint32_t len, cap;
  int failed;
} wr_t;

void put_u8(wr_t *w, uint8_t v);
void put_u16(wr_t *w, uint16_t v);
void put_u32(wr_t *w, uint32_t v);
void put_u64(wr_t *w, uint64_t v);
void put_bytes(wr_t *w, const void *p, uint32_t n);
void put_str(wr_t *w, const char *s);
/* A UTF-16 string written as UTF-8. */
void put_wstr(wr_t *w, const wchar_t *s);
void wr_free(wr_t *w);

uint32_t le32(const uint8_t *p);

#endif
