/* words.c - the extension's words, in the office's language (words.h).
 *
 * The words live in the extension, beside the library:
 * i18n/strings_en.properties and i18n/strings_fr.properties. They are
 * UTF-8 (not Java's Latin-1): "key=value" lines, '#' comments, "\n" for a
 * line break in a value. Placeholders are {0}, {1}... in the order the code
 * passes them, so a translation may reorder them. The extension's folder is
 * the one that holds this library (rl_os_library_dir: dladdr, or
 * GetModuleFileNameW on Windows), which needs no UNO call. */
#include "words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "platform.h"

const char *rl_words_language(const char *oo_locale)
{
    if (oo_locale && strncmp(oo_locale, "fr", 2) == 0 && (oo_locale[2] == '\0' || oo_locale[2] == '-'))
        return "fr";
    return "en";
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* Copies value into dst, turning "\n" into a line break and "\\" into "\". */
static void unescape(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    for (; *src && n + 1 < cap; src++) {
        if (src[0] == '\\' && src[1] == 'n') {
            dst[n++] = '\n';
            src++;
        } else if (src[0] == '\\' && src[1] == '\\') {
            dst[n++] = '\\';
            src++;
        } else {
            dst[n++] = *src;
        }
    }
    dst[n] = '\0';
}

static int parse(rl_words *s, char *text, const char *path)
{
    int line_no = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        line_no++;
        char *l = trim(line);
        if (*l == '\0' || *l == '#')
            continue;
        char *eq = strchr(l, '=');
        if (!eq) {
            rl_log("%s:%d: not key=value", path, line_no);
            return -1;
        }
        *eq = '\0';
        char *key = trim(l), *value = trim(eq + 1);
        if (strlen(key) >= RL_WORDS_MAX_KEY || strlen(value) >= RL_WORDS_MAX_VALUE) {
            rl_log("%s:%d: key or value too long", path, line_no);
            return -1;
        }
        if (s->n == RL_WORDS_MAX) {
            rl_log("%s: more than %d strings", path, RL_WORDS_MAX);
            return -1;
        }
        strcpy(s->key[s->n], key);
        unescape(s->value[s->n], RL_WORDS_MAX_VALUE, value);
        s->n++;
    }
    return 0;
}

int rl_words_load(rl_words *s, const char *lang)
{
    char path[RL_WORDS_MAX_PATH];
    char *text = NULL;
    FILE *f = NULL;
    int rc = -1;

    memset(s, 0, sizeof *s);
    snprintf(s->lang, sizeof s->lang, "%s", lang);
    if (rl_os_library_dir(path, sizeof path) != 0) {
        rl_log("cannot find the extension's folder");
        return -1;
    }
    size_t dir_len = strlen(path);
    if ((size_t)snprintf(path + dir_len, sizeof path - dir_len, "i18n/strings_%s.properties", lang)
        >= sizeof path - dir_len) {
        rl_log("the extension's folder has too long a path");
        return -1;
    }
    if (!(f = rl_os_fopen(path, "rb"))) {
        rl_log("cannot read %s", path);
        goto out;
    }
    if (!(text = malloc(RL_WORDS_MAX_FILE + 1)))
        goto out;
    size_t len = fread(text, 1, RL_WORDS_MAX_FILE + 1, f);
    if (len > RL_WORDS_MAX_FILE) {
        rl_log("%s is larger than %d bytes", path, RL_WORDS_MAX_FILE);
        goto out;
    }
    text[len] = '\0';
    rc = parse(s, text, path);
out:
    if (f)
        fclose(f);
    free(text);
    return rc;
}

const char *rl_word(const rl_words *s, const char *key)
{
    for (int i = 0; i < s->n; i++) {
        if (strcmp(s->key[i], key) == 0)
            return s->value[i];
    }
    return key;
}

void rl_words_format(const rl_words *s, const char *key, char *out, size_t cap,
                const char *const *args, int n)
{
    const char *p = rl_word(s, key);
    size_t len = 0;

    if (cap == 0)
        return;
    while (*p && len + 1 < cap) {
        if (p[0] == '{' && p[1] >= '0' && p[1] <= '9' && p[2] == '}' && p[1] - '0' < n) {
            const char *a = args[p[1] - '0'];
            while (*a && len + 1 < cap)
                out[len++] = *a++;
            p += 3;
        } else {
            out[len++] = *p++;
        }
    }
    out[len] = '\0';
}

void rl_words_field(const rl_words *s, const char *bookmark, size_t n, char *out, size_t cap)
{
    char key[160];
    snprintf(key, sizeof key, "field.%.*s", (int)n, bookmark);
    char *us = strrchr(key, '_');                     /* "diagnosis_2" is "diagnosis" */
    if (us && us[1] && strspn(us + 1, "0123456789") == strlen(us + 1))
        *us = 0;
    const char *words = s ? rl_word(s, key) : key;
    if (strcmp(words, key) != 0)
        snprintf(out, cap, "%s", words);
    else
        snprintf(out, cap, "%.*s", (int)n, bookmark);
}
