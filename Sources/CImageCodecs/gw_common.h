// gw_common.h: helpers shared by the PNG and JPEG codecs (private to CImageCodecs).
#ifndef GW_COMMON_H
#define GW_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_codecs.h"

/// Sets err->code and formats err->message (printf-style), always NUL-terminated.
static inline int gw_fail(gw_error *err, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

static inline int gw_fail(gw_error *err, int code, const char *format, ...) {
    if (err != NULL) {
        va_list args;
        va_start(args, format);
        vsnprintf(err->message, sizeof err->message, format, args);
        va_end(args);
        err->code = code;
    }
    return code;
}

/// Copies a library message into err->message (truncating), without changing err->code.
static inline void gw_set_message(gw_error *err, const char *message) {
    if (err == NULL) {
        return;
    }
    if (message == NULL || message[0] == '\0') {
        message = "unknown error";
    }
    snprintf(err->message, sizeof err->message, "%s", message);
}

/// Clears err to "no error".
static inline void gw_clear_error(gw_error *err) {
    if (err != NULL) {
        err->code = GW_OK;
        memset(err->message, 0, sizeof err->message);
    }
}

/// a * b without overflow; returns 0 on overflow, 1 on success.
static inline int gw_mul_size(size_t a, size_t b, size_t *result) {
    if (a != 0 && b > SIZE_MAX / a) {
        return 0;
    }
    *result = a * b;
    return 1;
}

/// True when the host stores multi-byte integers little-endian first.
static inline int gw_host_is_little_endian(void) {
    const uint16_t probe = 1;
    uint8_t first;
    memcpy(&first, &probe, 1);
    return first == 1;
}

/// A byte buffer that grows by doubling, for the encoders.
typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} gw_growing_buffer;

/// Ensures room for `extra` more bytes; returns 0 when memory runs out or sizes overflow.
static inline int gw_buffer_reserve(gw_growing_buffer *buffer, size_t extra) {
    if (extra > SIZE_MAX - buffer->size) {
        return 0;
    }
    size_t needed = buffer->size + extra;
    if (needed <= buffer->capacity) {
        return 1;
    }
    size_t capacity = buffer->capacity < 4096 ? 4096 : buffer->capacity;
    while (capacity < needed) {
        if (capacity > SIZE_MAX / 2) {
            capacity = needed;
            break;
        }
        capacity *= 2;
    }
    uint8_t *grown = (uint8_t *)realloc(buffer->data, capacity);
    if (grown == NULL) {
        return 0;
    }
    buffer->data = grown;
    buffer->capacity = capacity;
    return 1;
}

#endif
