import { describe, expect, it } from "vitest";
import { languageName, toBcp47 } from "./languages.js";

describe("toBcp47", () => {
  it.each([
    ["eng", "en"], ["fra", "fr"], ["fre", "fr"], ["deu", "de"], ["ger", "de"], ["spa", "es"], ["ita", "it"], ["por", "pt"],
    ["jpn", "ja"], ["zho", "zh"], ["chi", "zh"], ["rus", "ru"], ["ara", "ar"], ["nld", "nl"], ["dut", "nl"], ["kor", "ko"],
    ["ENG", "en"], ["en", "en"], ["en-US", "en"], ["pt_BR", "pt"], ["fil", "fil"],
  ])("%s → %s", (tag, code) => {
    expect(toBcp47(tag)).toBe(code);
  });

  it.each([[null], [undefined], [""], ["und"], ["mul"], ["zxx"], ["xyz"], ["english"]])("%s → und", (tag) => {
    expect(toBcp47(tag)).toBe("und");
  });
});

describe("languageName", () => {
  it("gives each language its own name", () => {
    expect(languageName("en")).toBe("English");
    expect(languageName("fr")).toBe("français");
    expect(languageName("de")).toBe("Deutsch");
    expect(languageName("es")).toBe("español");
    expect(languageName("it")).toBe("italiano");
    expect(languageName("pt")).toBe("português");
    expect(languageName("ja")).toBe("日本語");
    expect(languageName("zh")).toBe("中文");
    expect(languageName("ru")).toBe("русский");
    expect(languageName("ar")).toBe("العربية");
    expect(languageName("FR")).toBe("français");
  });
  it("has no name for und or unknown codes", () => {
    expect(languageName("und")).toBeNull();
    expect(languageName("xx")).toBeNull();
  });
});
