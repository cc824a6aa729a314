import { decompressRTF } from '@kenjiuno/decompressrtf';
import MsgReader, { FieldsData } from '@kenjiuno/msgreader';

import { InvalidInputError } from 'src/common/app-error';
import { ContainerContext } from 'src/workers/collections/extraction/container-members';
import {
  extractAttachments,
  headerBlockPart,
  headerMetadata,
  MessageAttachment,
  MessageHeaders,
} from 'src/workers/collections/extraction/email.extractor';
import { ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { extractHtml } from 'src/workers/collections/extraction/html.extractor';
import { rtfToText } from 'src/workers/collections/extraction/rtf-body-text';

const OLE2_SIGNATURE = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/**
 * Extracts an Outlook message (`.msg`, an OLE2 compound file read with msgreader) like an
 * email: header block, body and attachments as `attachment:<file name>` children. The body is
 * the plain text property, else the HTML property, else the compressed RTF property. RTF
 * bodies are turned into text by a simple reader that keeps paragraphs and characters but
 * drops tables and fields, and the result is flagged with `body_format: 'rtf'`.
 * Embedded messages are extracted as `.msg` children. Throws `msg_invalid` for a file that
 * is not an Outlook message.
 */
export async function extractOutlookMessage(data: Buffer, context: ContainerContext): Promise<ExtractorResult> {
  const { fileName } = context;
  if (!data.subarray(0, OLE2_SIGNATURE.length).equals(OLE2_SIGNATURE)) {
    throw msgInvalidError(fileName, 'the file is not an OLE2 compound file');
  }

  let reader: MsgReader;
  let fields: FieldsData;
  try {
    reader = new MsgReader(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    fields = reader.getFileData();
  } catch (error) {
    throw msgInvalidError(fileName, error instanceof Error ? error.message : String(error), error);
  }
  if (fields.error) {
    throw msgInvalidError(fileName, fields.error);
  }
  // Other OLE2 files, such as Word 97-2003 documents, parse without error but have no message properties.
  const hasMessageProperties = fields.messageClass || fields.subject || fields.body || fields.recipients?.length || fields.attachments?.length;
  if (!hasMessageProperties) {
    throw msgInvalidError(fileName, 'the compound file has no message properties');
  }

  const recipients = fields.recipients ?? [];
  const formatRecipient = (recipient: FieldsData): string => {
    const address = recipient.smtpAddress || recipient.email;
    return recipient.name && address && recipient.name !== address ? `${recipient.name} <${address}>` : (address ?? recipient.name ?? '');
  };
  const senderAddress = fields.senderSmtpAddress || fields.senderEmail;
  const headers: MessageHeaders = {
    from: fields.senderName && senderAddress ? `${fields.senderName} <${senderAddress}>` : (senderAddress ?? fields.senderName),
    // A recipient without a type is listed under To.
    to: recipients.filter((recipient) => (recipient.recipType ?? 'to') === 'to').map(formatRecipient).filter(Boolean),
    cc: recipients.filter((recipient) => recipient.recipType === 'cc').map(formatRecipient).filter(Boolean),
    subject: fields.subject,
    date: isoDate(fields.clientSubmitTime ?? fields.messageDeliveryTime ?? fields.creationTime),
    messageId: fields.headers ? /^message-id:\s*(<[^>\r\n]+>)/im.exec(fields.headers)?.[1] : undefined,
  };

  const { parts: bodyParts, format: bodyFormat } = messageBody(fields);

  const attachments: MessageAttachment[] = [];
  let unreadableAttachmentCount = 0;
  for (const attachment of fields.attachments ?? []) {
    try {
      const content = reader.getAttachment(attachment);
      attachments.push({
        fileName: content.fileName || attachment.fileName || attachment.fileNameShort,
        contentType: attachment.attachMimeTag,
        data: Buffer.from(content.content),
      });
    } catch {
      // NOTE: msgreader throws for attachments it cannot locate, such as OLE objects without
      // a data stream. They are counted and skipped, because the rest of the message is readable.
      unreadableAttachmentCount += 1;
    }
  }
  const children = await extractAttachments(attachments, context);

  return {
    parts: [headerBlockPart(headers), ...bodyParts],
    ...(headers.subject ? { title: headers.subject } : {}),
    metadata: {
      ...headerMetadata(headers),
      body_format: bodyFormat,
      attachment_count: attachments.length,
      ...(unreadableAttachmentCount > 0 ? { unreadable_attachment_count: unreadableAttachmentCount } : {}),
    },
    children,
  };
}

function messageBody(fields: FieldsData): { parts: ExtractedPart[]; format: string } {
  if (fields.body && fields.body.trim() !== '') {
    return { parts: [{ text: fields.body, metadata: {} }], format: 'text' };
  }

  const html = fields.bodyHtml ?? (fields.html ? Buffer.from(fields.html).toString('utf8') : undefined);
  if (html && html.trim() !== '') {
    return { parts: extractHtml(Buffer.from(html, 'utf8'), 'utf-8').parts, format: 'html' };
  }

  if (fields.compressedRtf && fields.compressedRtf.length > 0) {
    try {
      const rtf = Buffer.from(decompressRTF(Array.from(fields.compressedRtf)));
      return { parts: [{ text: rtfToText(rtf), metadata: {} }], format: 'rtf' };
    } catch {
      // A damaged RTF body leaves the header block and attachments, which are still worth indexing.
      return { parts: [], format: 'rtf_unreadable' };
    }
  }
  return { parts: [], format: 'none' };
}

function isoDate(value: string | undefined): string | undefined {
  if (!value) {
    return undefined;
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function msgInvalidError(fileName: string, reason: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError(
    'msg_invalid',
    `Outlook message "${fileName}" could not be read (${reason}). Save it again from Outlook, or export it as .eml.`,
    { file_name: fileName, reason },
    cause === undefined ? undefined : { cause },
  );
}
