/*
 * words.h - the extension's words in the doctor's language, from
 * <extension>/i18n/strings_<lang>.properties.
 *
 * The component (the undo step's title, the DOCX errors, the letter's
 * warning bar) and the ui (every panel and page) both speak to the doctor:
 * the words sit below both. No UNO: which language the office uses is the
 * component's business (rlc_words_for_office in component.h).
 * An rl_words is about 66 KB: allocate it, or keep it in an object.
 */
#ifndef RL_WORDS_H
#define RL_WORDS_H

#include <stddef.h>

#define RL_WORDS_MAX        200    /* entries of one resource file */
#define RL_WORDS_MAX_KEY    48
#define RL_WORDS_MAX_VALUE  256    /* bytes of UTF-8 */
#define RL_WORDS_MAX_FILE   (64 * 1024)
#define RL_WORDS_MAX_PATH   1024

typedef struct rl_words {
    char lang[8];                /* "fr" or "en": the file that was read */
    int n;
    char key[RL_WORDS_MAX][RL_WORDS_MAX_KEY];
    char value[RL_WORDS_MAX][RL_WORDS_MAX_VALUE];
} rl_words;

/* The two-letter language of the resource file to use for the office's UI
 * language (ooLocale "fr-FR" -> "fr"); English for anything without a file. */
const char *rl_words_language(const char *oo_locale);

/* Reads <extension>/i18n/strings_<lang>.properties (UTF-8; key=value lines,
 * '#' comments, \n in values). Returns 0, or -1 after logging why. */
int rl_words_load(rl_words *s, const char *lang);

/* The text of key (borrowed from s); the key itself when it is missing, so
 * that a missing string shows instead of failing. */
const char *rl_word(const rl_words *s, const char *key);

/* Writes key's text into out with {0}, {1}... replaced by args[0], args[1]
 * (at most n args). The result is cut to cap. */
void rl_words_format(const rl_words *s, const char *key, char *out, size_t cap,
                     const char *const *args, int n);

/* A field bookmark ("diagnosis", "diagnosis_2") as the doctor calls it:
 * field.<key>'s words, or the bookmark's own name when there are none.
 * n: the bookmark's length in bytes (it may end a longer string). s may be
 * NULL (the bookmark's name then). */
void rl_words_field(const rl_words *s, const char *bookmark, size_t n, char *out, size_t cap);

#endif
