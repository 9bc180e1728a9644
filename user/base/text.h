/* SPDX-License-Identifier: MIT */
/*
 * Text taken from targets (symbols, paths, flow and handler names), made
 * safe for each place flowprof writes it: a terminal, an HTML page, a DOT
 * graph, a JSON document, a Prometheus label. Every one of them walks the
 * UTF-8 the same way (escape_text_to()) and differs only in its policy
 * (struct text_escaping), so a byte that is not UTF-8 or a code point that
 * would make a name display as another is never let through by one output
 * and caught by another.
 */
#ifndef FLOWPROF_TEXT_H
#define FLOWPROF_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decodes one UTF-8 sequence at s (n bytes left, n >= 1). Returns its
 * length and stores the code point, or returns 0 when the bytes are not
 * valid UTF-8 (overlong forms, surrogates, past U+10FFFF, truncated). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Code points that would make a name display as another, or drive the
 * terminal: C1 controls (CSI, ...), bidirectional embeddings, overrides and
 * isolates, direction marks, line and paragraph separators. */
bool is_spoofing_code_point(uint32_t cp);

/* Room for any replacement an ascii() hook formats. */
#define TEXT_ESCAPE_BUF 16

/* What escape_text_to() writes for each piece of a string. */
struct text_escaping {
	/* A byte that is not valid UTF-8: the text "\xNN" (NN upper-case hex)
	 * when true, else U+FFFD (so the output stays valid UTF-8). */
	bool invalid_as_hex;
	/* A spoofing code point (is_spoofing_code_point()): the text
	 * "\u{202E}", each of its characters passed through ascii() like any
	 * other, when true; else its bytes as they are. */
	bool spoofing_as_text;
	/* What to write instead of the ASCII character c (below 0x80), or NULL
	 * to write c itself; buf may hold a formatted replacement. NULL: every
	 * ASCII character as it is. */
	const char *(*ascii)(unsigned char c, char buf[TEXT_ESCAPE_BUF]);
};

/* Writes s (NULL: "") to out under the policy how. Code points that are
 * neither ASCII nor spoofing are always written as their own bytes. */
void escape_text_to(FILE *out, const char *s, const struct text_escaping *how);

/* The same into a new string (caller frees); its length in *len (may be
 * NULL). */
char *escape_text(const char *s, const struct text_escaping *how, size_t *len);

/* Valid UTF-8 and nothing else changed: U+FFFD for each byte that is not
 * UTF-8 (JSON strings, before json-c escapes them). */
extern const struct text_escaping escape_invalid_utf8;

/* A terminal: see term_escape(). */
extern const struct text_escaping escape_for_terminal;

/* A copy of s that is safe to print on a terminal: C0 controls and DEL
 * become \n, \t, \r or \xNN; bytes that are not valid UTF-8 become \xNN;
 * C1 controls and the bidirectional overrides (which can make a name
 * display as another) become \u{NNNN}. Everything else, a backslash
 * included, is kept as it is. Caller frees; NULL gives "". */
char *term_escape(const char *s);

/* Display width of a UTF-8 string, in terminal columns: one per code point,
 * and one per byte that is not UTF-8 (good enough for the names flowprof
 * prints, which term_escape made safe). NULL is 0. */
size_t display_width(const char *s);

/* How many bytes of s fill at most cols columns as display_width() counts
 * them: where to cut s for a screen line. */
size_t display_prefix(const char *s, size_t cols);

/* Prints s padded with spaces to width columns, on the left (right_align) or
 * the right; never truncates. */
void print_padded(FILE *out, const char *s, size_t width, bool right_align);

#endif
