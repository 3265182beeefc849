/*
 * report.c - HTML, RTF and plain-text renderings of a json_report, the
 * report_ready message, and the demo reports (see report.h).
 */
#include "report.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *key;
    const char *heading;
} known_headings[] = {
    { "history", "Anamnèse" },
    { "findings", "Examen clinique" },
    { "diagnosis", "Diagnostic" },
    { "procedure", "Procédure" },
    { "recommendation", "Recommandations" },
};

const char *ds_report_heading(const char *key)
{
    size_t i;

    for (i = 0; i < sizeof(known_headings) / sizeof(known_headings[0]); i++)
        if (!strcmp(key, known_headings[i].key))
            return known_headings[i].heading;
    return key;
}

char *ds_report_field_text(const cJSON *value)
{
    if (cJSON_IsString(value))
        return strdup(value->valuestring);
    if (cJSON_IsNull(value))
        return strdup("");
    return cJSON_PrintUnformatted(value);
}

/* --- HTML ---------------------------------------------------------------- */

static void html_escape(rl_buf *b, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        switch (s[i]) {
        case '&': rl_buf_add_str(b, "&amp;"); break;
        case '<': rl_buf_add_str(b, "&lt;"); break;
        case '>': rl_buf_add_str(b, "&gt;"); break;
        case '"': rl_buf_add_str(b, "&quot;"); break;
        case '\'': rl_buf_add_str(b, "&#39;"); break;
        case '\r': break;
        default: ds_addc(b, s[i]); break;
        }
    }
}

char *ds_report_html(const cJSON *report, size_t *len)
{
    rl_buf b;
    const cJSON *it;

    rl_buf_init(&b, DS_MAX_RENDERED_BYTES);
    rl_buf_add_str(&b, "<!DOCTYPE html>\n<html lang=\"fr\">\n<head><meta charset=\"utf-8\">"
                    "<title>Compte rendu</title></head>\n<body>\n");
    cJSON_ArrayForEach(it, report) {
        const char *heading = ds_report_heading(it->string ? it->string : "");
        char *text = ds_report_field_text(it);
        const char *line, *nl;

        if (!text) {
            rl_buf_free(&b);
            return NULL;
        }
        rl_buf_add_str(&b, "<h2>");
        html_escape(&b, heading, strlen(heading));
        rl_buf_add_str(&b, "</h2>\n");
        /* One paragraph per non-empty line, so multi-line fields keep their
         * shape in the HTML as they do in the other renderings. */
        for (line = text; *line; line = nl ? nl + 1 : line + strlen(line)) {
            size_t n;

            nl = strchr(line, '\n');
            n = nl ? (size_t)(nl - line) : strlen(line);
            if (n == 0 || (n == 1 && line[0] == '\r'))
                continue;
            rl_buf_add_str(&b, "<p>");
            html_escape(&b, line, n);
            rl_buf_add_str(&b, "</p>\n");
        }
        free(text);
    }
    rl_buf_add_str(&b, "</body>\n</html>\n");
    return rl_buf_take(&b, len);
}

/* --- RTF ----------------------------------------------------------------- */

/* RTF is 7-bit: everything outside printable ASCII becomes a control word.
 * \uN takes a signed 16-bit value, so code points above the BMP go out as
 * a UTF-16 surrogate pair; \uc1 at the top says one '?' fallback follows. */
static void rtf_escape(rl_buf *b, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        uint32_t cp;

        if (c < 0x80) {
            i++;
            if (c == '\\' || c == '{' || c == '}') {
                ds_addc(b, '\\');
                ds_addc(b, (char)c);
            } else if (c == '\n') {
                rl_buf_add_str(b, "\\line ");
            } else if (c == '\t') {
                rl_buf_add_str(b, "\\tab ");
            } else if (c >= 0x20 && c != 0x7F) {
                ds_addc(b, (char)c);
            }
            /* Other control characters (CR included) carry nothing. */
            continue;
        }
        i += ds_utf8_next(s + i, n - i, &cp);
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            int hi = (int)(0xD800 + (v >> 10)), lo = (int)(0xDC00 + (v & 0x3FF));

            rl_buf_printf(b, "\\u%d?\\u%d?", hi - 65536, lo - 65536);
        } else {
            rl_buf_printf(b, "\\u%d?", cp > 32767 ? (int)cp - 65536 : (int)cp);
        }
    }
}

char *ds_report_rtf(const cJSON *report, size_t *len)
{
    rl_buf b;
    const cJSON *it;

    rl_buf_init(&b, DS_MAX_RENDERED_BYTES);
    rl_buf_add_str(&b, "{\\rtf1\\ansi\\ansicpg1252\\deff0\\uc1"
                    "{\\fonttbl{\\f0\\fswiss Arial;}}\n\\f0\\fs22\n");
    cJSON_ArrayForEach(it, report) {
        const char *heading = ds_report_heading(it->string ? it->string : "");
        char *text = ds_report_field_text(it);

        if (!text) {
            rl_buf_free(&b);
            return NULL;
        }
        rl_buf_add_str(&b, "\\pard\\sb240\\sa60{\\b ");
        rtf_escape(&b, heading, strlen(heading));
        rl_buf_add_str(&b, "}\\par\n\\pard\\sa120 ");
        rtf_escape(&b, text, strlen(text));
        rl_buf_add_str(&b, "\\par\n");
        free(text);
    }
    rl_buf_add_str(&b, "}\n");
    return rl_buf_take(&b, len);
}

/* --- Plain text ---------------------------------------------------------- */

char *ds_report_text(const cJSON *report, size_t *len)
{
    rl_buf b;
    const cJSON *it;
    int first = 1;

    rl_buf_init(&b, DS_MAX_RENDERED_BYTES);
    cJSON_ArrayForEach(it, report) {
        char *text = ds_report_field_text(it);

        if (!text) {
            rl_buf_free(&b);
            return NULL;
        }
        if (!first)
            rl_buf_add_str(&b, "\n\n");
        first = 0;
        rl_buf_add_str(&b, ds_report_heading(it->string ? it->string : ""));
        ds_addc(&b, '\n');
        rl_buf_add_str(&b, text);
        free(text);
    }
    return rl_buf_take(&b, len);
}

/* --- report_ready -------------------------------------------------------- */

char *ds_report_ready_message(const cJSON *report, const char *json_text,
                              size_t json_len, const char *url, size_t *len)
{
    cJSON *msg = NULL;
    char *html = NULL, *rtf = NULL, *text = NULL, *head = NULL, *out = NULL;
    size_t head_len;
    rl_buf b;

    rl_buf_init(&b, DS_MAX_REPORT_MESSAGE_BYTES);
    html = ds_report_html(report, NULL);
    rtf = ds_report_rtf(report, NULL);
    text = ds_report_text(report, NULL);
    if (!html || !rtf || !text)
        goto done;
    msg = cJSON_CreateObject();
    if (!msg || !cJSON_AddStringToObject(msg, "type", "report_ready") ||
        !cJSON_AddStringToObject(msg, "url", url) ||
        !cJSON_AddStringToObject(msg, "html_content", html) ||
        !cJSON_AddStringToObject(msg, "rtf_report", rtf) ||
        !cJSON_AddStringToObject(msg, "plaintext_report", text))
        goto done;
    head = cJSON_PrintUnformatted(msg);
    if (!head)
        goto done;
    /* json_report goes in as the sender wrote it (cJSON would reformat
     * numbers), so the printed object is reopened before its last brace. */
    head_len = strlen(head);
    if (head_len < 2 || head[head_len - 1] != '}')
        goto done;
    rl_buf_add(&b, head, head_len - 1);
    rl_buf_add_str(&b, ",\"json_report\":");
    rl_buf_add(&b, json_text, json_len);
    ds_addc(&b, '}');
    out = rl_buf_take(&b, len);
done:
    rl_buf_free(&b);
    cJSON_Delete(msg);
    free(head);
    free(html);
    free(rtf);
    free(text);
    return out;
}

/* --- Demo reports -------------------------------------------------------- */

/* Realistic consultations in French, with accents and multi-line findings,
 * so that a demo exercises what real reports contain. */
static const char *const demo_reports[][5] = {
    {
        "La patiente, âgée de 42 ans, est venue parce qu'elle a mal à la tête "
        "depuis trois semaines. Les douleurs sont surtout matinales et "
        "s'aggravent à l'effort ; ni fièvre ni traumatisme récent.",
        "Pouls de 100/min, tension artérielle 140/80 mmHg.\n"
        "Examen neurologique sans déficit focal, pas de raideur méningée.\n"
        "Fond d'œil normal.",
        "Céphalées chroniques non spécifiées, probablement de tension.",
        "Examen physique et neurologique complet ; mesure de la tension "
        "artérielle aux deux bras.",
        "Nous recommandons du repos à la patiente et un arrêt de travail de "
        "trois jours. Paracétamol 1 g jusqu'à trois fois par jour si besoin ; "
        "nouvelle consultation dans deux semaines, ou plus tôt en cas "
        "d'aggravation.",
    },
    {
        "Enfant de 6 ans amené par sa mère pour une otalgie droite apparue "
        "hier soir, avec une fièvre à 38,7 °C.",
        "Tympan droit bombé et congestif.\n"
        "Tympan gauche normal.\n"
        "Température 38,5 °C, bon état général, auscultation pulmonaire "
        "normale.",
        "Otite moyenne aiguë droite.",
        "Otoscopie bilatérale, examen ORL et pulmonaire.",
        "Amoxicilline 80 mg/kg/jour en deux prises pendant 8 jours. "
        "Paracétamol en cas de douleur ou de fièvre. Revoir l'enfant si la "
        "fièvre persiste au-delà de 48 heures.",
    },
    {
        "Patient de 28 ans, entorse de la cheville gauche en jouant au "
        "football il y a deux jours. Appui possible mais douloureux.",
        "Œdème et ecchymose en regard du ligament latéral externe.\n"
        "Pas de douleur à la palpation des malléoles ni de la base du "
        "cinquième métatarsien (critères d'Ottawa négatifs).",
        "Entorse bénigne du ligament latéral externe de la cheville gauche.",
        "Examen clinique de la cheville et du pied selon les critères "
        "d'Ottawa ; pas d'indication de radiographie.",
        "Glace, repos relatif et surélévation du membre pendant 72 heures. "
        "Chevillère de maintien pendant trois semaines, puis rééducation "
        "proprioceptive ; reprise progressive du sport.",
    },
};

char *ds_report_demo_json(unsigned n)
{
    static const char *const keys[5] = {
        "history", "findings", "diagnosis", "procedure", "recommendation"
    };
    const char *const *r = demo_reports[n % (sizeof(demo_reports) / sizeof(demo_reports[0]))];
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    int i;

    if (!o)
        return NULL;
    for (i = 0; i < 5; i++)
        if (!cJSON_AddStringToObject(o, keys[i], r[i]))
            goto done;
    out = cJSON_PrintUnformatted(o);
done:
    cJSON_Delete(o);
    return out;
}
