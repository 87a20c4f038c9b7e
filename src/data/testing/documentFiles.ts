/**
 * Test support: real PDF and DOCX files (written by pdf-lib and docx, as other tools would) for the ingest
 * tests and the fuzzer's seeds. Not used by library code.
 */
import { Document, Packer, Paragraph } from "docx";
import { PDFDocument, StandardFonts } from "pdf-lib";

/** One page with `text` in Helvetica; `useObjectStreams: false` writes the classic cross-reference table. */
export async function makePdf(text: string, options: { useObjectStreams?: boolean } = {}): Promise<Uint8Array> {
  const pdf = await PDFDocument.create();
  const font = await pdf.embedFont(StandardFonts.Helvetica);
  pdf.addPage().drawText(text, { x: 50, y: 700, size: 12, font });
  return pdf.save(options);
}

/** One paragraph per string. */
export async function makeDocx(paragraphs: string[]): Promise<Buffer> {
  const doc = new Document({ sections: [{ children: paragraphs.map((text) => new Paragraph(text)) }] });
  return Packer.toBuffer(doc);
}
