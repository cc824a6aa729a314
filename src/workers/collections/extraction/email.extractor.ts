import { AddressObject, simpleParser } from 'mailparser';

import { InvalidInputError } from 'src/common/app-error';
import { ContainerContext, extractMembers } from 'src/workers/collections/extraction/container-members';
import { ExtractedChild, ExtractedPart, ExtractorResult } from 'src/workers/collections/extraction/extraction.types';
import { extractHtml } from 'src/workers/collections/extraction/html.extractor';

/** Header fields of a message, as they appear in its metadata and its header block. */
export interface MessageHeaders {
  from?: string;
  to: string[];
  cc: string[];
  subject?: string;
  /** ISO 8601 date. */
  date?: string;
  messageId?: string;
}

export interface MessageAttachment {
  fileName?: string;
  contentType?: string;
  data: Buffer;
}

// Extensions given to unnamed attachments, because content type detection of text formats relies on the extension.
const EXTENSIONS_BY_CONTENT_TYPE: Record<string, string> = {
  'text/plain': 'txt',
  'text/html': 'html',
  'text/csv': 'csv',
  'text/calendar': 'ics',
  'application/json': 'json',
  'application/pdf': 'pdf',
  'message/rfc822': 'eml',
};

/**
 * Extracts an RFC 5322 email (`.eml`): a header block (From, To, Cc, Subject, Date) followed
 * by the plain text body, or by the HTML body through the HTML extractor when the message has
 * no plain text part. Transfer encodings (quoted-printable, base64), charsets and RFC 2047
 * encoded headers are decoded by mailparser. Attachments become children named
 * `attachment:<file name>`, each extracted on its own. Images embedded in the HTML body
 * (`multipart/related`) are not attachments and are skipped.
 * Throws `email_invalid` when the message cannot be parsed.
 */
export async function extractEmail(data: Buffer, context: ContainerContext): Promise<ExtractorResult> {
  let mail: Awaited<ReturnType<typeof simpleParser>>;
  try {
    mail = await simpleParser(data, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, keepCidLinks: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidInputError(
      'email_invalid',
      `Email "${context.fileName}" could not be parsed (${reason}). Export the message again as .eml.`,
      { file_name: context.fileName, reason },
      { cause: error },
    );
  }

  const headers: MessageHeaders = {
    from: formatAddresses(mail.from)[0],
    to: formatAddresses(mail.to),
    cc: formatAddresses(mail.cc),
    subject: mail.subject,
    date: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : undefined,
    messageId: mail.messageId,
  };

  let bodyParts: ExtractedPart[] = [];
  let bodyFormat = 'none';
  if (mail.text && mail.text.trim() !== '') {
    bodyParts = [{ text: mail.text, metadata: {} }];
    bodyFormat = 'text';
  } else if (typeof mail.html === 'string' && mail.html.trim() !== '') {
    bodyParts = extractHtml(Buffer.from(mail.html, 'utf8'), 'utf-8').parts;
    bodyFormat = 'html';
  }

  const embedded = mail.attachments.filter((attachment) => attachment.related && attachment.contentType.startsWith('image/'));
  const attachments = mail.attachments
    .filter((attachment) => !embedded.includes(attachment))
    .map((attachment) => ({ fileName: attachment.filename, contentType: attachment.contentType, data: attachment.content }));
  const children = await extractAttachments(attachments, context);

  return {
    parts: [headerBlockPart(headers), ...bodyParts],
    ...(headers.subject ? { title: headers.subject } : {}),
    metadata: {
      ...headerMetadata(headers),
      body_format: bodyFormat,
      attachment_count: attachments.length,
      embedded_image_count: embedded.length,
    },
    children,
  };
}

/** Formats the header block that starts the text of a message. */
export function headerBlockPart(headers: MessageHeaders): ExtractedPart {
  const lines: string[] = [];
  if (headers.from) lines.push(`From: ${headers.from}`);
  if (headers.to.length > 0) lines.push(`To: ${headers.to.join(', ')}`);
  if (headers.cc.length > 0) lines.push(`Cc: ${headers.cc.join(', ')}`);
  if (headers.subject) lines.push(`Subject: ${headers.subject}`);
  if (headers.date) lines.push(`Date: ${headers.date}`);
  return { text: lines.join('\n'), metadata: {} };
}

export function headerMetadata(headers: MessageHeaders): Record<string, unknown> {
  const metadata: Record<string, unknown> = { to: headers.to, cc: headers.cc };
  if (headers.from) metadata.from = headers.from;
  if (headers.subject) metadata.subject = headers.subject;
  if (headers.date) metadata.date = headers.date;
  if (headers.messageId) metadata.message_id = headers.messageId;
  return metadata;
}

/**
 * Extracts attachments as children named `attachment:<file name>`. They count against the
 * container budget like archive entries, and a message with attachments nested deeper than
 * `maxDepth` fails with `archive_too_deep`.
 */
export async function extractAttachments(attachments: MessageAttachment[], context: ContainerContext): Promise<ExtractedChild[]> {
  if (attachments.length === 0) {
    return [];
  }
  context.budget.assertDepth(context.depth, context.fileName);
  context.budget.addEntries(attachments.length, context.fileName);
  for (const attachment of attachments) {
    context.budget.addBytes(attachment.data.length, context.fileName);
  }

  const members = attachments.map((attachment, index) => ({
    path: `attachment:${attachmentName(attachment, index)}`,
    data: attachment.data,
  }));
  return extractMembers(members, context);
}

function attachmentName(attachment: MessageAttachment, index: number): string {
  // Only the last path segment is kept, and `/` is reserved for nesting in child paths.
  const name = attachment.fileName?.split(/[\\/]/).pop()?.replace(/[\u0000-\u001F\u007F]/g, '').trim();
  if (name) {
    return name;
  }
  const extension = EXTENSIONS_BY_CONTENT_TYPE[(attachment.contentType ?? '').toLowerCase()];
  return extension ? `attachment-${index + 1}.${extension}` : `attachment-${index + 1}`;
}

function formatAddresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  const formatted: string[] = [];
  const visit = (entries: AddressObject['value']): void => {
    for (const entry of entries) {
      if (entry.group) {
        visit(entry.group);
      } else if (entry.address || entry.name) {
        formatted.push(entry.name && entry.address ? `${entry.name} <${entry.address}>` : (entry.address ?? entry.name));
      }
    }
  };
  objects.forEach((object) => visit(object.value));
  return formatted;
}
