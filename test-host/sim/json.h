/* Minimal JSON (UTF-8) parser / serializer for the HCS simulator. */
#ifndef HCSSIM_JSON_H
#define HCSSIM_JSON_H
#include <stddef.h>
#include <stdarg.h>

typedef enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ } jtype;

typedef struct jv {
    jtype t;
    int b;              /* J_BOOL */
    double n;           /* J_NUM */
    int isint;          /* J_NUM: the literal was an integer */
    long long i;        /* J_NUM: integer value (if isint) */
    char *s;            /* J_STR */
    char *key;          /* member name when inside an object */
    struct jv *child;   /* J_ARR / J_OBJ: first element */
    struct jv *next;    /* next sibling */
} jv;

/* Growable string buffer. */
typedef struct { char *p; size_t n, cap; } sb;
void sb_init(sb *b);
void sb_free(sb *b);
void sb_putn(sb *b, const char *s, size_t n);
void sb_puts(sb *b, const char *s);
void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_jstr(sb *b, const char *s);      /* quoted, escaped JSON string ("null" if s == NULL) */
char *sb_take(sb *b);                      /* returns malloc'd NUL-terminated string */

jv *json_parse(const char *text, char *err, size_t errlen);
void json_free(jv *v);
void json_write(sb *b, const jv *v);
char *json_dump(const jv *v);              /* malloc'd */

jv *jget(const jv *obj, const char *key);
const char *jgets(const jv *obj, const char *key);           /* string member or NULL */
int jgeti(const jv *obj, const char *key, long long *out);   /* 1 if integer/number member */
int jgetb(const jv *obj, const char *key, int dflt);
int jlen(const jv *arr);

jv *jnew(jtype t);
jv *jnew_str(const char *s);
jv *jnew_int(long long i);
void jset(jv *obj, const char *key, jv *val);   /* replaces an existing member */
void jpush(jv *arr, jv *val);
jv *jclone(const jv *v);
char *xstrdup(const char *s);
#endif
