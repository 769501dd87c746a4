/* Hex and base64 codecs shared by every module. Conventions: common.h. */
#ifndef CREDANCHOR_ENCODING_H
#define CREDANCHOR_ENCODING_H

#include "credanchor/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The value of one hex digit (0-9, a-f, A-F): 0..15, or -1 for any other character. */
int ca_hex_digit_value(char c);
/* The lowercase hex digit of v & 15. */
char ca_hex_digit(unsigned v);
/* True when the n chars at s are all lowercase hex digits (0-9, a-f): the one form SPEC §0
 * accepts where case is not folded (token ids, anchor records). */
bool ca_hex_is_lower(const char *s, size_t n);

/* Lowercase hex of len bytes into out, which must hold 2*len+1 chars (NUL-terminated). */
void ca_hex_encode(char *out, const uint8_t *in, size_t len);

/* Decodes exactly out_len bytes from hex text of length in_len (upper or lower case, no
 * prefix). CA_ERR_INVALID when in_len != 2*out_len or a character is not hex. */
ca_err ca_hex_decode(uint8_t *out, size_t out_len, const char *in, size_t in_len);

/* A 32-byte hash as 64 hex chars, the log API's form (SPEC §0). */
ca_err ca_hash_from_hex(ca_hash *out, const char *hex, size_t hex_len);
void ca_hash_to_hex(char out[2 * CA_HASH_SIZE + 1], const ca_hash *h);

/* Standard base64 with padding (RFC 4648 §4), as signed notes use. out must hold
 * ca_base64_encoded_len(len) bytes; the result is NUL-terminated. */
size_t ca_base64_encoded_len(size_t len);
void ca_base64_encode(char *out, const uint8_t *in, size_t len);

/* Decodes padded standard base64. *out_len holds the capacity in and the decoded length out.
 * CA_ERR_INVALID on bad characters or padding, CA_ERR_TOO_LARGE when out is too small. */
ca_err ca_base64_decode(uint8_t *out, size_t *out_len, const char *in, size_t in_len);

/* base64url without padding (RFC 4648 §5), as JOSE and status lists use. */
size_t ca_base64url_encoded_len(size_t len);
void ca_base64url_encode(char *out, const uint8_t *in, size_t len);
ca_err ca_base64url_decode(uint8_t *out, size_t *out_len, const char *in, size_t in_len);

/* UTF-8 (RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF; noncharacters
 * such as U+FFFF are accepted). ca_utf8_seq: the length (1..4) of the well-formed sequence
 * at s[0..avail) and, when cp is not NULL, its code point; 0 when there is none. */
size_t ca_utf8_seq(const uint8_t *s, size_t avail, uint32_t *cp);
/* The byte offset of the first ill-formed sequence in s[0..n), or n when it is all UTF-8. */
size_t ca_utf8_valid_prefix(const uint8_t *s, size_t n);
/* Replaces every byte of an ill-formed sequence in the NUL-terminated s with '?', so text
 * that quotes untrusted bytes (an error detail) can go into JSON. */
void ca_utf8_scrub(char *s);

#ifdef __cplusplus
}
#endif
#endif
