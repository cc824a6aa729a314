import { CollectionFileEntity, FileStage } from 'src/collections/collection-file.entity';
import { effectiveStage, sanitiseFileName } from 'src/collections/collection-files.service';

function file(stage: FileStage, reason: string | null = null): CollectionFileEntity {
  return Object.assign(new CollectionFileEntity(), { stage, stageReason: reason, stageChangedAt: new Date('2026-01-01T00:00:00Z') });
}

describe(effectiveStage.name, () => {
  it('keeps stages before chunking', () => {
    expect(effectiveStage(file(FileStage.Extracting)).stage).toBe(FileStage.Extracting);
    expect(effectiveStage(file(FileStage.Failed, 'pdf_encrypted: needs a password'))).toMatchObject({
      stage: FileStage.Failed,
      reason: 'pdf_encrypted: needs a password',
    });
  });

  it('stays chunked without embedded datasets', () => {
    expect(effectiveStage(file(FileStage.Chunked), { expected: 0, batched: 0, embedded: 0, lastEmbeddedAt: null }).stage).toBe(
      FileStage.Chunked,
    );
  });

  it('reports embedding while batches run', () => {
    expect(effectiveStage(file(FileStage.Chunked), { expected: 10, batched: 4, embedded: 2, lastEmbeddedAt: null }).stage).toBe(
      FileStage.Embedding,
    );
  });

  it('reports a failed batch as failed with its error', () => {
    const progress = { expected: 10, batched: 10, embedded: 8, lastEmbeddedAt: null, failed: 2, failure: 'provider returned 400: input rejected' };
    expect(effectiveStage(file(FileStage.Chunked), progress)).toMatchObject({
      stage: FileStage.Failed,
      reason: 'embedding_failed: provider returned 400: input rejected',
    });
  });

  it('reports embedded with the last vector time', () => {
    const last = new Date('2026-02-02T10:00:00Z');
    expect(effectiveStage(file(FileStage.Chunked), { expected: 10, batched: 10, embedded: 10, lastEmbeddedAt: last })).toEqual({
      stage: FileStage.Embedded,
      reason: null,
      changedAt: last,
    });
  });
});

describe(sanitiseFileName.name, () => {
  it.each([
    ['report.pdf', 'report.pdf'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\notes.txt', 'notes.txt'],
    ['bad\u0000name\u0007.md', 'badname.md'],
    ['a\u202etxt.exe', 'atxt.exe'],
  ])('maps %j to %j', (raw, expected) => {
    expect(sanitiseFileName(raw)).toBe(expected);
  });

  it.each(['..', '.', '', undefined])('gives %j a unique name', (raw) => {
    const first = sanitiseFileName(raw);
    expect(first).toMatch(/^unnamed-[0-9a-f]{8}$/);
    expect(sanitiseFileName(raw)).not.toBe(first);
  });

  it('caps names at 255 characters keeping the extension', () => {
    const name = sanitiseFileName(`${'a'.repeat(400)}.md`);
    expect(name).toHaveLength(255);
    expect(name.endsWith('.md')).toBe(true);
  });
});
