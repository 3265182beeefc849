/* import.c - LibreOffice's own import filters: HTML, RTF or DOCX inserted
 * into a field, and a DOCX opened as a document of its own, from memory.
 * (src/writer/README.md, "The signed DOCX".) */
#include "writer_internal.h"

#include "platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *filter_name(rl_plan_format format)
{
    switch (format) {
    case RL_PLAN_RTF: return "Rich Text Format";
    case RL_PLAN_DOCX: return "MS Word 2007 XML";
    default: return "HTML (StarWriter)";
    }
}

/* A com.sun.star.io.SequenceInputStream over a copy of data (new
 * reference), or NULL with err set. */
static uno_Interface *memory_stream(uno_Interface *smgr, uno_Interface *ctx, const void *data,
                                    size_t len, rl_uno_err *err)
{
    uno_Interface *stream = NULL;
    uno_Sequence *args = NULL;
    uno_Any arg;
    if (len > 0x7fffffff) {
        rl_uno_fail(err, RL_ERR_NOMEM, "the document is too large");
        return NULL;
    }
    uno_Sequence *bytes = rl_uno_seq(RL_UNO_T_seq_byte, (void *)data, (sal_Int32)len);
    rtl_uString *svc = rl_uno_str("com.sun.star.io.SequenceInputStream");
    if (!bytes) {
        rl_uno_fail(err, RL_ERR_NOMEM, "out of memory");
    } else {
        rl_uno_any_value(&arg, &bytes, RL_UNO_T_seq_byte);
        args = rl_uno_seq(RL_UNO_T_seq_any, &arg, 1);
        uno_any_destruct(&arg, NULL);
        if (rl_uno_XMultiComponentFactory_createInstanceWithArgumentsAndContext(
                smgr, err, &stream, svc, args, ctx))
            stream = NULL;
    }
    if (args)
        rl_uno_destruct(&args, RL_UNO_T_seq_any);
    if (bytes)
        rl_uno_destruct(&bytes, RL_UNO_T_seq_byte);
    rtl_uString_release(svc);
    return stream;
}

/* Inserts a DOCX at cursor from a private temporary file: LibreOffice 7.4's
 * insertDocumentFromURL cannot read a DOCX (a ZIP storage) from an
 * InputStream ("Can't read contents!" in package/xstor), although it can
 * open one that way. The file is private (0600) in a private folder of its
 * own in the user's temporary folder (platform.h: rl_os_make_temp_dir), and
 * both are removed as soon as the import returns. */
static int import_docx_file(uno_Interface *cursor, const char *data, size_t len,
                            uno_Sequence *options, rl_uno_err *err)
{
    char dir[RL_OS_PATH_MAX], path[RL_OS_PATH_MAX + 16], url[3 * sizeof path + 16];
    int rc;

    if (rl_os_make_temp_dir("reportlink-docx-", dir, sizeof dir) != 0)
        return rl_uno_fail(err, RL_ERR_UNO_TYPE, "cannot create a private temporary folder: %s",
                           strerror(errno));
    snprintf(path, sizeof path, "%s/report.docx", dir);
    int fd = rl_os_create_private(path);
    int written = fd >= 0 && rl_os_write_all(fd, data, len) == 0;
    int why = errno;
    if (fd >= 0 && close(fd) != 0 && written) {
        written = 0;
        why = errno;
    }
    if (!written) {
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "cannot write the temporary DOCX: %s", strerror(why));
    } else if (rl_os_file_url(path, url, sizeof url) != 0) {
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "the temporary DOCX has no URL: %s", strerror(errno));
    } else {
        rtl_uString *u = rl_uno_str(url);
        rc = rl_uno_XDocumentInsertable_insertDocumentFromURL(cursor, err, u, options);
        rtl_uString_release(u);
    }
    rl_os_remove(path);
    rl_os_rmdir(dir);
    return rc;
}

/* The media descriptor that has LibreOffice read a copy of data with the
 * filter of format: InputStream and FilterName, built in *options (which
 * the caller frees with rl_uno_props_free). RL_OK, or an error when no
 * stream could be made. */
static int stream_options(rl_writer *w, const void *data, size_t len, rl_plan_format format,
                          rl_uno_props *options, rl_uno_err *err)
{
    uno_Interface *stream = memory_stream(w->smgr, w->ctx, data, len, err);

    rl_uno_props_init(options);
    if (!stream)
        return err->code ? err->code : RL_ERR_NOMEM;
    rl_uno_props_add_interface(options, "InputStream", stream, RL_UNO_T_XInputStream);
    rl_uno_props_add_string(options, "FilterName", filter_name(format));
    rl_uno_release(stream);           /* the descriptor holds its own reference */
    return RL_OK;
}

/* Imports data (HTML, RTF or DOCX) at cursor through LibreOffice's own
 * filter, from memory (the DOCX: see import_docx_file). Afterwards the
 * cursor spans the imported content. */
int rl__writer_import_at(rl_writer *w, uno_Interface *cursor, const char *data, size_t len,
                         rl_plan_format format, rl_uno_err *err)
{
    rl_uno_props options;
    uno_Sequence *seq;
    int rc;
    if (format == RL_PLAN_DOCX) {
        rl_uno_props_init(&options);
        rl_uno_props_add_string(&options, "FilterName", filter_name(RL_PLAN_DOCX));
        rc = (seq = rl_uno_props_seq(&options, err)) ? import_docx_file(cursor, data, len, seq, err) : err->code;
        rl_uno_props_free(&options);
        return rc;
    }
    rtl_uString *url = rl_uno_str("private:stream");
    if (!(rc = stream_options(w, data, len, format, &options, err)))
        rc = (seq = rl_uno_props_seq(&options, err)) ?
             rl_uno_XDocumentInsertable_insertDocumentFromURL(cursor, err, url, seq) : err->code;
    rl_uno_props_free(&options);
    rtl_uString_release(url);
    return rc;
}

int rl_writer_open_docx(rl_writer *w, const unsigned char *docx, size_t len, rl_uno_err *err)
{
    uno_Interface *loader = NULL, *doc = NULL;
    rl_uno_props options;
    uno_Sequence *seq;
    rtl_uString *url = rl_uno_str("private:stream"), *frame = rl_uno_str("_blank");
    int rc;

    rl_uno_props_init(&options);
    if (!(loader = rl_uno_query(w->desktop, RL_UNO_T_XComponentLoader)))
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "the Desktop lacks XComponentLoader");
    else if (!(rc = stream_options(w, docx, len, RL_PLAN_DOCX, &options, err)))
        rc = (seq = rl_uno_props_seq(&options, err)) ?
             rl_uno_XComponentLoader_loadComponentFromURL(loader, err, &doc, url, frame, 0, seq) : err->code;
    if (!rc && !doc)
        rc = rl_uno_fail(err, RL_ERR_UNO_TYPE, "LibreOffice could not open the document");
    rl_uno_props_free(&options);
    rl_uno_release(doc);
    rl_uno_release(loader);
    rtl_uString_release(url);
    rtl_uString_release(frame);
    return rc;
}
