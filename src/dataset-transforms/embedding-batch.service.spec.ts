import { pointIdFor } from 'src/dataset-transforms/embedding-batch.service';

describe(pointIdFor.name, () => {
  const embeddedDataset = '0b7e3a52-3f5c-4c2e-9d7a-2f8e0c1d4b6a';
  const chunk = '5d245d0b-9e4b-418c-9a05-d47b6873f634';

  it('is stable for the same chunk and embedded dataset', () => {
    expect(pointIdFor(embeddedDataset, chunk)).toBe(pointIdFor(embeddedDataset, chunk));
  });

  it('is a version 5 UUID', () => {
    expect(pointIdFor(embeddedDataset, chunk)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('differs between embedded datasets', () => {
    expect(pointIdFor(embeddedDataset, chunk)).not.toBe(pointIdFor('1b7e3a52-3f5c-4c2e-9d7a-2f8e0c1d4b6a', chunk));
  });
});
