"""Builds the sample French patient-letter template with ReportLink's field
bookmarks (extension/templates/lettre-patient.odt), through a running
headless LibreOffice.

Usage: /usr/bin/python3 tools/make-sample-template.py PORT OUTPUT.odt
(soffice --headless --accept="socket,host=127.0.0.1,port=PORT;urp;" must run.)
The .odt is committed; this script documents how it was made.
"""
import sys
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.text.ControlCharacter import PARAGRAPH_BREAK

port, out = int(sys.argv[1]), sys.argv[2]
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
for _ in range(60):
    try:
        ctx = resolver.resolve("uno:socket,host=127.0.0.1,port=%d;urp;StarOffice.ComponentContext" % port)
        break
    except Exception:
        time.sleep(0.5)
desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
hidden = PropertyValue(); hidden.Name = "Hidden"; hidden.Value = True
doc = desktop.loadComponentFromURL("private:factory/swriter", "_blank", 0, (hidden,))
text = doc.Text
cur = text.createTextCursor()

first = [True]


def para(s, style="Text Body", bold=False, align=None):
    if not first[0]:
        text.insertControlCharacter(cur, PARAGRAPH_BREAK, False)
    first[0] = False
    cur.ParaStyleName = style
    if align is not None:
        cur.ParaAdjust = align
    cur.CharWeight = 150.0 if bold else 100.0
    text.insertString(cur, s, False)


def field(name, placeholder="…"):
    """A paragraph whose whole content is the bookmark `name`."""
    para("")
    text.insertString(cur, placeholder, False)
    cur.goLeft(len(placeholder), True)
    bm = doc.createInstance("com.sun.star.text.Bookmark")
    bm.Name = name
    text.insertTextContent(cur, bm, True)
    cur.collapseToEnd()


para("Dr Claire Martin", "Text Body", bold=True)
para("Médecine générale — 12 rue des Lilas, 69003 Lyon — Tél. 04 78 00 00 00")
para("")
para("Lyon, le …", align=1)  # RIGHT
para("")
para("Objet : compte rendu de consultation", bold=True)
para("")
para("Cher confrère, chère consœur,")
para("J'ai vu en consultation votre patient(e). Voici mes conclusions.")
for name, heading in (("history", "Anamnèse"), ("findings", "Examen clinique"),
                      ("diagnosis", "Diagnostic"), ("procedure", "Procédure"),
                      ("recommendation", "Recommandations")):
    para(heading, "Heading 2")
    field(name)
para("")
para("Je vous prie d'agréer, cher confrère, chère consœur, l'expression de mes "
     "salutations distinguées.")
para("")
para("Dr Claire Martin")

props = doc.DocumentProperties
props.Title = "Lettre au médecin traitant"
french = uno.createUnoStruct("com.sun.star.lang.Locale", "fr", "FR", "")
props.Language = french
# The text's language (spelling, hyphenation) is the styles': French, not the
# office's default (a French letter spell-checked in English was a bug).
doc.StyleFamilies.getByName("ParagraphStyles").getByName("Standard").CharLocale = french
url = uno.systemPathToFileUrl(out)
doc.storeToURL(url, ())
doc.close(True)
print("wrote", out)
