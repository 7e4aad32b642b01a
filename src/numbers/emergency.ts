/**
 * Emergency numbers per home country. This table, shipped with dialguard, is the source of
 * truth: libphonenumber-js has no short-number metadata, so it cannot tell 911 from 411.
 *
 * Derived from the `emergency` patterns of Google libphonenumber's ShortNumberMetadata.xml
 * (Apache-2.0), expanded to exact numbers (CZ 15x reduced to the lines in service).
 * Additions to that source, each a published emergency line: CN 122 (road accidents),
 * JP 118 (coast guard), NG 112 (national emergency number), ES 061/062/091/092 (medical,
 * Guardia Civil, national and local police).
 *
 * Covers the 30 most populous countries, the EU/EEA and other common PBX locations. A home
 * country not listed gets 112 and 911, the numbers GSM handsets treat as emergency everywhere
 * (3GPP TS 22.101): letting them through costs nothing if the trunk refuses them, and an
 * emergency call must never be blocked by a gap in this table.
 */
const TABLE: Readonly<Record<string, readonly string[]>> = {
  AE: ['112', '997', '998', '999'],
  AF: ['100', '102', '119'],
  AO: ['112', '113', '115'],
  AR: ['100', '101', '107', '911'],
  AT: ['112', '122', '133', '144'],
  AU: ['000', '106', '112'],
  BD: ['100', '101', '102', '199', '999'],
  BE: ['100', '101', '112'],
  BG: ['112', '150', '160', '166'],
  BR: ['112', '128', '190', '192', '193', '911'],
  CA: ['112', '911'],
  CD: ['113', '114', '118', '177', '188'],
  CH: ['112', '117', '118', '144'],
  CL: ['131', '132', '133', '911'],
  CN: ['110', '119', '120', '122'],
  CO: ['112', '119', '123', '132', '156'],
  CY: ['112', '199'],
  CZ: ['112', '150', '155', '156', '158'],
  DE: ['110', '112'],
  DK: ['112', '114'],
  DZ: ['14', '17', '112'],
  EE: ['110', '112'],
  EG: ['122', '123', '180'],
  ES: ['061', '062', '085', '088', '091', '092', '112'],
  ET: ['91', '92', '93', '911', '939', '991', '997'],
  FI: ['112'],
  FR: ['15', '17', '18', '112'],
  GB: ['112', '999'],
  GH: ['191', '192', '193', '999'],
  GR: ['100', '112', '166', '199'],
  HK: ['112', '992', '999'],
  HR: ['93', '94', '112', '192', '193', '194'],
  HU: ['104', '105', '107', '112'],
  ID: ['110', '112', '113', '118', '119'],
  IE: ['112', '999'],
  IL: ['100', '101', '102', '112'],
  IN: ['100', '101', '102', '108', '112'],
  IQ: ['100', '104', '115', '122'],
  IR: ['110', '112', '115', '125', '911'],
  IS: ['112'],
  IT: ['112', '113', '115', '118'],
  JP: ['110', '118', '119'],
  KE: ['112', '114', '999'],
  KR: ['112', '119'],
  KZ: ['101', '102', '103', '112'],
  LT: ['01', '011', '02', '022', '03', '033', '101', '102', '103', '112'],
  LI: ['112', '117', '118', '144'],
  LU: ['112', '113'],
  LV: ['01', '02', '03', '110', '112', '113'],
  MA: ['15', '19', '177'],
  MM: ['199'],
  MT: ['112'],
  MX: ['060', '065', '066', '068', '080', '911'],
  MY: ['112', '999'],
  MZ: ['117', '119', '197', '198'],
  NG: ['112', '199'],
  NL: ['112', '911'],
  NO: ['110', '112', '113'],
  NP: ['100', '101', '102', '103', '112'],
  NZ: ['111'],
  PE: ['105', '116', '117'],
  PH: ['112', '117', '911'],
  PK: ['15', '16', '112', '115', '1122'],
  PL: ['112', '997', '998', '999'],
  PT: ['112', '115'],
  RO: ['112'],
  RS: ['92', '93', '94', '112'],
  RU: ['01', '02', '03', '101', '102', '103', '112'],
  SA: ['112', '911', '997', '999'],
  SD: ['999'],
  SE: ['112', '90000'],
  SG: ['993', '995', '999'],
  SI: ['112', '113'],
  SK: ['112', '150', '155', '158'],
  TH: ['191', '199', '1669'],
  TR: ['110', '112', '155'],
  TW: ['110', '112', '119'],
  TZ: ['110', '111', '112', '114', '115', '999'],
  UA: ['101', '102', '103', '112'],
  UG: ['999'],
  US: ['112', '911'],
  UZ: ['001', '002', '003', '01', '02', '03', '050'],
  VE: ['112', '171', '911'],
  VN: ['113', '114', '115'],
  YE: ['191', '194', '195', '199'],
  ZA: ['112', '10111', '10177'],
};

const GSM_DEFAULT: ReadonlySet<string> = new Set(['112', '911']);

const BY_COUNTRY: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries(TABLE).map(([country, numbers]) => [country, new Set(numbers)]),
);

/** The emergency numbers of a home country (ISO 3166 alpha-2, either case). */
export function emergencyNumbers(homeCountry: string): ReadonlySet<string> {
  return BY_COUNTRY.get(homeCountry.toUpperCase()) ?? GSM_DEFAULT;
}

/**
 * Whether `digits` (as dialled, access prefix already stripped, no separators) is an
 * emergency number of the home country. Exact match only: 9110 is not 911.
 */
export function isEmergencyNumber(digits: string, homeCountry: string): boolean {
  return emergencyNumbers(homeCountry).has(digits);
}
