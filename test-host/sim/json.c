#include "json.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <math.h>

char *xstrdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

void sb_init(sb *b) { b->p = NULL; b->n = b->cap = 0; }
void sb_free(sb *b) { free(b->p); sb_init(b); }
static void sb_grow(sb *b, size_t add) {
    if (b->n + add + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        while (c < b->n + add + 1) c *= 2;
        b->p = realloc(b->p, c);
        b->cap = c;
    }
}
void sb_putn(sb *b, const char *s, size_t n) {
    sb_grow(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
void sb_puts(sb *b, const char *s) { sb_putn(b, s, strlen(s)); }
void sb_printf(sb *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sb_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}
void sb_jstr(sb *b, const char *s) {
    if (!s) { sb_puts(b, "null"); return; }
    sb_putn(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sb_puts(b, "\\\""); break;
        case '\\': sb_puts(b, "\\\\"); break;
        case '\n': sb_puts(b, "\\n"); break;
        case '\r': sb_puts(b, "\\r"); break;
        case '\t': sb_puts(b, "\\t"); break;
        case '\b': sb_puts(b, "\\b"); break;
        case '\f': sb_puts(b, "\\f"); break;
        default:
            if (*p < 0x20) sb_printf(b, "\\u%04x", *p);
            else sb_putn(b, (const char *)p, 1);
        }
    }
    sb_putn(b, "\"", 1);
}
char *sb_take(sb *b) {
    if (!b->p) { sb_grow(b, 0); b->p[0] = 0; }
    char *p = b->p;
    sb_init(b);
    return p;
}

/* ---------------- parser ---------------- */
typedef struct { const char *p; char *err; size_t errlen; int depth; } ps;

static void perr(ps *s, const char *msg) {
    if (s->err && !s->err[0]) snprintf(s->err, s->errlen, "%s at offset-char '%.10s'", msg, s->p);
}
static void ws(ps *s) { while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r') s->p++; }

jv *jnew(jtype t) { jv *v = calloc(1, sizeof *v); v->t = t; return v; }
jv *jnew_str(const char *str) { jv *v = jnew(J_STR); v->s = xstrdup(str ? str : ""); return v; }
jv *jnew_int(long long i) { jv *v = jnew(J_NUM); v->isint = 1; v->i = i; v->n = (double)i; return v; }

static void put_utf8(sb *b, unsigned cp) {
    char o[4]; int n;
    if (cp < 0x80) { o[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) { o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
    else { o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
    sb_putn(b, o, (size_t)n);
}
static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i]; v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v; return 1;
}
static char *pstring(ps *s) {
    if (*s->p != '"') { perr(s, "expected string"); return NULL; }
    s->p++;
    sb b; sb_init(&b);
    for (;;) {
        unsigned char c = (unsigned char)*s->p;
        if (!c) { perr(s, "unterminated string"); sb_free(&b); return NULL; }
        if (c == '"') { s->p++; break; }
        if (c < 0x20) { perr(s, "control character in string"); sb_free(&b); return NULL; }
        if (c == '\\') {
            s->p++;
            char e = *s->p++;
            switch (e) {
            case '"': sb_putn(&b, "\"", 1); break;
            case '\\': sb_putn(&b, "\\", 1); break;
            case '/': sb_putn(&b, "/", 1); break;
            case 'b': sb_putn(&b, "\b", 1); break;
            case 'f': sb_putn(&b, "\f", 1); break;
            case 'n': sb_putn(&b, "\n", 1); break;
            case 'r': sb_putn(&b, "\r", 1); break;
            case 't': sb_putn(&b, "\t", 1); break;
            case 'u': {
                unsigned cp;
                if (!hex4(s->p, &cp)) { perr(s, "bad \\u escape"); sb_free(&b); return NULL; }
                s->p += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && s->p[0] == '\\' && s->p[1] == 'u') {
                    unsigned lo;
                    if (hex4(s->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                        s->p += 6;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                }
                put_utf8(&b, cp);
                break;
            }
            default: perr(s, "bad escape"); sb_free(&b); return NULL;
            }
        } else { sb_putn(&b, s->p, 1); s->p++; }
    }
    return sb_take(&b);
}
static jv *pvalue(ps *s);
static jv *pnumber(ps *s) {
    const char *st = s->p;
    int isint = 1;
    if (*s->p == '-') s->p++;
    if (*s->p < '0' || *s->p > '9') { perr(s, "bad number"); return NULL; }
    while (*s->p >= '0' && *s->p <= '9') s->p++;
    if (*s->p == '.') { isint = 0; s->p++; if (*s->p < '0' || *s->p > '9') { perr(s, "bad number"); return NULL; } while (*s->p >= '0' && *s->p <= '9') s->p++; }
    if (*s->p == 'e' || *s->p == 'E') { isint = 0; s->p++; if (*s->p == '+' || *s->p == '-') s->p++; if (*s->p < '0' || *s->p > '9') { perr(s, "bad number"); return NULL; } while (*s->p >= '0' && *s->p <= '9') s->p++; }
    jv *v = jnew(J_NUM);
    char buf[64];
    size_t n = (size_t)(s->p - st);
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, st, n); buf[n] = 0;
    v->n = strtod(buf, NULL);
    if (isint) { v->isint = 1; v->i = strtoll(buf, NULL, 10); }
    else if (v->n == floor(v->n) && fabs(v->n) < 9e15) { v->isint = 1; v->i = (long long)v->n; }
    return v;
}
static jv *pvalue(ps *s) {
    ws(s);
    if (++s->depth > 200) { perr(s, "nesting too deep"); return NULL; }
    jv *v = NULL;
    char c = *s->p;
    if (c == '{') {
        s->p++;
        v = jnew(J_OBJ);
        jv **tail = &v->child;
        ws(s);
        if (*s->p == '}') { s->p++; goto done; }
        for (;;) {
            ws(s);
            char *k = pstring(s);
            if (!k) { json_free(v); v = NULL; goto done; }
            ws(s);
            if (*s->p != ':') { free(k); perr(s, "expected ':'"); json_free(v); v = NULL; goto done; }
            s->p++;
            jv *m = pvalue(s);
            if (!m) { free(k); json_free(v); v = NULL; goto done; }
            m->key = k;
            *tail = m; tail = &m->next;
            ws(s);
            if (*s->p == ',') { s->p++; continue; }
            if (*s->p == '}') { s->p++; break; }
            perr(s, "expected ',' or '}'"); json_free(v); v = NULL; goto done;
        }
    } else if (c == '[') {
        s->p++;
        v = jnew(J_ARR);
        jv **tail = &v->child;
        ws(s);
        if (*s->p == ']') { s->p++; goto done; }
        for (;;) {
            jv *m = pvalue(s);
            if (!m) { json_free(v); v = NULL; goto done; }
            *tail = m; tail = &m->next;
            ws(s);
            if (*s->p == ',') { s->p++; continue; }
            if (*s->p == ']') { s->p++; break; }
            perr(s, "expected ',' or ']'"); json_free(v); v = NULL; goto done;
        }
    } else if (c == '"') {
        char *str = pstring(s);
        if (str) { v = jnew(J_STR); v->s = str; }
    } else if (!strncmp(s->p, "true", 4)) { s->p += 4; v = jnew(J_BOOL); v->b = 1; }
    else if (!strncmp(s->p, "false", 5)) { s->p += 5; v = jnew(J_BOOL); }
    else if (!strncmp(s->p, "null", 4)) { s->p += 4; v = jnew(J_NULL); }
    else if (c == '-' || (c >= '0' && c <= '9')) v = pnumber(s);
    else perr(s, "unexpected character");
done:
    s->depth--;
    return v;
}
jv *json_parse(const char *text, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!text) { if (err) snprintf(err, errlen, "empty document"); return NULL; }
    ps s = { text, err, errlen, 0 };
    /* skip UTF-8 BOM */
    if ((unsigned char)s.p[0] == 0xEF && (unsigned char)s.p[1] == 0xBB && (unsigned char)s.p[2] == 0xBF) s.p += 3;
    jv *v = pvalue(&s);
    if (!v) return NULL;
    ws(&s);
    if (*s.p) { perr(&s, "trailing characters"); json_free(v); return NULL; }
    return v;
}
void json_free(jv *v) {
    while (v) {
        jv *n = v->next;
        json_free(v->child);
        free(v->s); free(v->key); free(v);
        v = n;
    }
}
void json_write(sb *b, const jv *v) {
    if (!v) { sb_puts(b, "null"); return; }
    switch (v->t) {
    case J_NULL: sb_puts(b, "null"); break;
    case J_BOOL: sb_puts(b, v->b ? "true" : "false"); break;
    case J_NUM:
        if (v->isint) sb_printf(b, "%lld", v->i); else sb_printf(b, "%.17g", v->n);
        break;
    case J_STR: sb_jstr(b, v->s); break;
    case J_ARR: case J_OBJ: {
        sb_puts(b, v->t == J_ARR ? "[" : "{");
        for (jv *c = v->child; c; c = c->next) {
            if (c != v->child) sb_puts(b, ",");
            if (v->t == J_OBJ) { sb_jstr(b, c->key); sb_puts(b, ":"); }
            json_write(b, c);
        }
        sb_puts(b, v->t == J_ARR ? "]" : "}");
        break;
    }
    }
}
char *json_dump(const jv *v) { sb b; sb_init(&b); json_write(&b, v); return sb_take(&b); }

jv *jget(const jv *o, const char *key) {
    if (!o || o->t != J_OBJ) return NULL;
    for (jv *c = o->child; c; c = c->next) if (!strcmp(c->key, key)) return c;
    return NULL;
}
const char *jgets(const jv *o, const char *key) { jv *v = jget(o, key); return v && v->t == J_STR ? v->s : NULL; }
int jgeti(const jv *o, const char *key, long long *out) {
    jv *v = jget(o, key);
    if (!v || v->t != J_NUM) return 0;
    *out = v->isint ? v->i : (long long)v->n;
    return 1;
}
int jgetb(const jv *o, const char *key, int dflt) { jv *v = jget(o, key); return v && v->t == J_BOOL ? v->b : dflt; }
int jlen(const jv *a) { int n = 0; if (a && (a->t == J_ARR || a->t == J_OBJ)) for (jv *c = a->child; c; c = c->next) n++; return n; }
void jset(jv *o, const char *key, jv *val) {
    jv **pp = &o->child;
    while (*pp) {
        if (!strcmp((*pp)->key, key)) {
            jv *old = *pp;
            val->next = old->next; val->key = xstrdup(key);
            *pp = val;
            old->next = NULL; json_free(old);
            return;
        }
        pp = &(*pp)->next;
    }
    val->key = xstrdup(key); val->next = NULL; *pp = val;
}
void jpush(jv *a, jv *val) { jv **pp = &a->child; while (*pp) pp = &(*pp)->next; val->next = NULL; *pp = val; }
jv *jclone(const jv *v) {
    if (!v) return NULL;
    jv *c = jnew(v->t);
    c->b = v->b; c->n = v->n; c->isint = v->isint; c->i = v->i;
    c->s = xstrdup(v->s); c->key = xstrdup(v->key);
    jv **tail = &c->child;
    for (jv *ch = v->child; ch; ch = ch->next) { jv *x = jclone(ch); *tail = x; tail = &x->next; }
    return c;
}
