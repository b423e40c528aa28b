/**
 * Language tags for audio/subtitle renditions.
 *
 * Containers carry ISO 639-2 codes (`eng`, and for some languages two: the bibliographic `fre` and
 * the terminological `fra`); HLS wants BCP-47 (RFC 8216 §4.3.4.1: LANGUAGE "MUST be one of the
 * language tags specified in [RFC5646]"), and BCP-47 says to use the shortest available code, i.e.
 * ISO 639-1 (`en`) when one exists (RFC 5646 §2.2.1). Names are each language's own name
 * (autonym), which is what a player's track menu should show to a speaker of that language.
 */

interface LanguageEntry {
  /** ISO 639-1 */
  code: string;
  /** ISO 639-2/T, and 639-2/B when it differs */
  iso3: readonly string[];
  /** autonym */
  name: string;
}

const LANGUAGES: readonly LanguageEntry[] = [
  { code: "af", iso3: ["afr"], name: "Afrikaans" },
  { code: "am", iso3: ["amh"], name: "አማርኛ" },
  { code: "ar", iso3: ["ara"], name: "العربية" },
  { code: "az", iso3: ["aze"], name: "azərbaycan" },
  { code: "be", iso3: ["bel"], name: "беларуская" },
  { code: "bg", iso3: ["bul"], name: "български" },
  { code: "bn", iso3: ["ben"], name: "বাংলা" },
  { code: "bs", iso3: ["bos"], name: "bosanski" },
  { code: "ca", iso3: ["cat"], name: "català" },
  { code: "cs", iso3: ["ces", "cze"], name: "čeština" },
  { code: "cy", iso3: ["cym", "wel"], name: "Cymraeg" },
  { code: "da", iso3: ["dan"], name: "dansk" },
  { code: "de", iso3: ["deu", "ger"], name: "Deutsch" },
  { code: "el", iso3: ["ell", "gre"], name: "Ελληνικά" },
  { code: "en", iso3: ["eng"], name: "English" },
  { code: "eo", iso3: ["epo"], name: "Esperanto" },
  { code: "es", iso3: ["spa"], name: "español" },
  { code: "et", iso3: ["est"], name: "eesti" },
  { code: "eu", iso3: ["eus", "baq"], name: "euskara" },
  { code: "fa", iso3: ["fas", "per"], name: "فارسی" },
  { code: "fi", iso3: ["fin"], name: "suomi" },
  { code: "fil", iso3: ["fil"], name: "Filipino" },
  { code: "fr", iso3: ["fra", "fre"], name: "français" },
  { code: "ga", iso3: ["gle"], name: "Gaeilge" },
  { code: "gl", iso3: ["glg"], name: "galego" },
  { code: "gu", iso3: ["guj"], name: "ગુજરાતી" },
  { code: "he", iso3: ["heb"], name: "עברית" },
  { code: "hi", iso3: ["hin"], name: "हिन्दी" },
  { code: "hr", iso3: ["hrv"], name: "hrvatski" },
  { code: "hu", iso3: ["hun"], name: "magyar" },
  { code: "hy", iso3: ["hye", "arm"], name: "հայերեն" },
  { code: "id", iso3: ["ind"], name: "Indonesia" },
  { code: "is", iso3: ["isl", "ice"], name: "íslenska" },
  { code: "it", iso3: ["ita"], name: "italiano" },
  { code: "ja", iso3: ["jpn"], name: "日本語" },
  { code: "ka", iso3: ["kat", "geo"], name: "ქართული" },
  { code: "kk", iso3: ["kaz"], name: "қазақ тілі" },
  { code: "km", iso3: ["khm"], name: "ខ្មែរ" },
  { code: "kn", iso3: ["kan"], name: "ಕನ್ನಡ" },
  { code: "ko", iso3: ["kor"], name: "한국어" },
  { code: "la", iso3: ["lat"], name: "Latina" },
  { code: "lt", iso3: ["lit"], name: "lietuvių" },
  { code: "lv", iso3: ["lav"], name: "latviešu" },
  { code: "mk", iso3: ["mkd", "mac"], name: "македонски" },
  { code: "ml", iso3: ["mal"], name: "മലയാളം" },
  { code: "mn", iso3: ["mon"], name: "монгол" },
  { code: "mr", iso3: ["mar"], name: "मराठी" },
  { code: "ms", iso3: ["msa", "may"], name: "Melayu" },
  { code: "nb", iso3: ["nob"], name: "norsk bokmål" },
  { code: "ne", iso3: ["nep"], name: "नेपाली" },
  { code: "nl", iso3: ["nld", "dut"], name: "Nederlands" },
  { code: "nn", iso3: ["nno"], name: "norsk nynorsk" },
  { code: "no", iso3: ["nor"], name: "norsk" },
  { code: "pa", iso3: ["pan"], name: "ਪੰਜਾਬੀ" },
  { code: "pl", iso3: ["pol"], name: "polski" },
  { code: "pt", iso3: ["por"], name: "português" },
  { code: "ro", iso3: ["ron", "rum"], name: "română" },
  { code: "ru", iso3: ["rus"], name: "русский" },
  { code: "sk", iso3: ["slk", "slo"], name: "slovenčina" },
  { code: "sl", iso3: ["slv"], name: "slovenščina" },
  { code: "sq", iso3: ["sqi", "alb"], name: "shqip" },
  { code: "sr", iso3: ["srp"], name: "српски" },
  { code: "sv", iso3: ["swe"], name: "svenska" },
  { code: "sw", iso3: ["swa"], name: "Kiswahili" },
  { code: "ta", iso3: ["tam"], name: "தமிழ்" },
  { code: "te", iso3: ["tel"], name: "తెలుగు" },
  { code: "th", iso3: ["tha"], name: "ไทย" },
  { code: "tr", iso3: ["tur"], name: "Türkçe" },
  { code: "uk", iso3: ["ukr"], name: "українська" },
  { code: "ur", iso3: ["urd"], name: "اردو" },
  { code: "uz", iso3: ["uzb"], name: "o‘zbek" },
  { code: "vi", iso3: ["vie"], name: "Tiếng Việt" },
  { code: "zh", iso3: ["zho", "chi"], name: "中文" },
  { code: "zu", iso3: ["zul"], name: "isiZulu" },
];

const BY_CODE = new Map<string, LanguageEntry>();
for (const l of LANGUAGES) {
  BY_CODE.set(l.code, l);
  for (const c of l.iso3) BY_CODE.set(c, l);
}

/** The "undetermined" BCP-47 tag (RFC 5646 §4.1: `und` when the language is not known). */
export const UNDETERMINED = "und";

/**
 * BCP-47 short form of a container or user language tag: `eng` → `en`, `fre`/`fra` → `fr`,
 * `en-US` → `en`, `pt_BR` → `pt`. Anything not recognised (absent, `und`, `mul`, `zxx`, typos)
 * becomes `und`: a wrong LANGUAGE attribute is worse for players than an undetermined one.
 */
export function toBcp47(tag: string | null | undefined): string {
  if (!tag) return UNDETERMINED;
  // Only the primary subtag: regions/scripts from containers are rare and often wrong, and the
  // ladder keys tracks by language.
  const primary = tag.trim().toLowerCase().split(/[-_]/)[0] ?? "";
  return BY_CODE.get(primary)?.code ?? UNDETERMINED;
}

/** The language's own name (`en` → `English`, `fr` → `français`), null for `und`/unknown codes. */
export function languageName(code: string): string | null {
  return BY_CODE.get(code.trim().toLowerCase())?.name ?? null;
}
