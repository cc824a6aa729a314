import {
  decodeXmlBytes,
  decodeXmlEntities,
  localName,
  scanXml,
  XmlSyntaxError,
} from 'src/workers/collections/extraction/xml-scanner';

/** Records the scanner's callbacks as readable events. */
function events(xml: string): string[] {
  const seen: string[] = [];
  scanXml(xml, {
    openElement: (name, attributes) => seen.push(`<${name}${JSON.stringify(attributes)}`),
    closeElement: (name) => seen.push(`</${name}`),
    text: (text) => seen.push(`"${text}"`),
  });
  return seen;
}

describe('scanXml', () => {
  it('reports elements, attributes and text in order', () => {
    expect(events('<?xml version="1.0"?><w:p a="1" b=\'x > y\'><w:t>Hi</w:t><w:br/></w:p>')).toEqual([
      '<w:p{"a":"1","b":"x > y"}',
      '<w:t{}',
      '"Hi"',
      '</w:t',
      '<w:br{}',
      '</w:br',
      '</w:p',
    ]);
  });

  it('decodes entities in text and attributes', () => {
    expect(events('<a t="&lt;&#x41;&quot;">&amp; &#233;&#x1F600; &unknown;</a>')).toEqual([
      '<a{"t":"<A\\""}',
      '"& é😀 &unknown;"',
      '</a',
    ]);
  });

  it('passes CDATA through and skips comments and DOCTYPE', () => {
    expect(events('<!DOCTYPE a [<!ENTITY x "y">]><a><!-- <b> --><![CDATA[<raw> & text]]></a>')).toEqual([
      '<a{}',
      '"<raw> & text"',
      '</a',
    ]);
  });

  it.each(['<a><b c="unterminated></a>', '<a><!-- open', '<a><![CDATA[open', '<!DOCTYPE a [ <a>'])(
    'rejects %s',
    (xml) => {
      expect(() => events(xml)).toThrow(XmlSyntaxError);
    },
  );
});

describe('XML helpers', () => {
  it('returns local names', () => {
    expect(localName('w:p')).toBe('p');
    expect(localName('sheet')).toBe('sheet');
  });

  it('keeps text without entities as it is', () => {
    expect(decodeXmlEntities('plain')).toBe('plain');
  });

  it.each([
    ['UTF-8', Buffer.from('\uFEFF<a/>', 'utf8'), '<a/>'],
    ['UTF-16LE', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<a>é</a>', 'utf16le')]), '<a>é</a>'],
    ['UTF-16BE', Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('<a>é</a>', 'utf16le').swap16()]), '<a>é</a>'],
  ])('decodes %s XML bytes by their byte order mark', (_encoding, bytes, expected) => {
    expect(decodeXmlBytes(bytes)).toBe(expected);
  });
});
