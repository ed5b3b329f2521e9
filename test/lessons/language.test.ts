/**
 * src/lessons/language.ts: which language the lessons are shown in, and the English a lesson
 * falls back to when its translation is missing (against a fixture folder with one).
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { CATALOGUE, LESSONS_DIR } from '../../src/lessons/catalogue.js';
import {
  chooseLanguage,
  fallbackNote,
  langFlag,
  lessonsDir,
  lessonsPath,
  localeLanguage,
  parseLanguage,
  readLessonIn,
} from '../../src/lessons/language.js';

/** 00 and 01 in English, and only 00 in uk/. */
const FIXTURES = new URL('./fixtures/languages/', import.meta.url);
const [LESSON_00, LESSON_01] = [CATALOGUE[0]!, CATALOGUE[1]!];

describe('the locale', () => {
  it.each([
    [{ LANG: 'uk_UA.UTF-8' }, 'uk'],
    [{ LANG: 'uk_UA' }, 'uk'],
    [{ LANG: 'uk' }, 'uk'],
    [{ LANG: 'uk_UA@euro' }, 'uk'],
    [{ LC_ALL: 'uk_UA.UTF-8', LANG: 'en_US.UTF-8' }, 'uk'],
    [{ LC_MESSAGES: 'uk_UA.UTF-8', LANG: 'C.UTF-8' }, 'uk'],
    [{ LC_ALL: 'C', LANG: 'uk_UA.UTF-8' }, 'en'],
    [{ LC_ALL: '', LANG: 'uk_UA.UTF-8' }, 'uk'],
    [{ LANG: 'en_GB.UTF-8' }, 'en'],
    [{ LANG: 'C.UTF-8' }, 'en'],
    [{ LANG: 'ukr' }, 'en'],
    [{}, 'en'],
  ] as const)('%o reads the lessons in %s', (env, lang) => {
    expect(localeLanguage(env)).toBe(lang);
  });
});

describe('chooseLanguage', () => {
  it('takes --lang over the locale, both ways', () => {
    expect(chooseLanguage('en', { LANG: 'uk_UA.UTF-8' })).toEqual({ lang: 'en', explicit: true });
    expect(chooseLanguage('uk', { LANG: 'C.UTF-8' })).toEqual({ lang: 'uk', explicit: true });
  });

  it('follows the locale without --lang', () => {
    expect(chooseLanguage(undefined, { LANG: 'uk_UA.UTF-8' })).toEqual({ lang: 'uk', explicit: false });
    expect(chooseLanguage(undefined, {})).toEqual({ lang: 'en', explicit: false });
  });

  it('keeps --lang in the commands it suggests, and only then', () => {
    expect(langFlag(chooseLanguage('uk', {}))).toBe(' --lang uk');
    expect(langFlag(chooseLanguage('en', { LANG: 'uk_UA.UTF-8' }))).toBe(' --lang en');
    expect(langFlag(chooseLanguage(undefined, { LANG: 'uk_UA.UTF-8' }))).toBe('');
  });
});

describe('parseLanguage', () => {
  it.each(['uk', 'UK', ' uk '])('takes "%s" as uk', (value) => {
    expect(parseLanguage(value)).toBe('uk');
  });

  it.each(['de', 'ua', 'ukr', 'uk_UA', ''])('refuses "%s" with a usage error naming the languages', (value) => {
    expect(() => parseLanguage(value)).toThrow(UsageError);
    expect(() => parseLanguage(value)).toThrow(`--lang must be one of en, uk, not "${value}".`);
  });
});

describe('readLessonIn', () => {
  it('finds a translation in the folder named by its language', () => {
    expect(lessonsDir('en')).toBe(LESSONS_DIR);
    expect(lessonsDir('uk').href).toBe(new URL('uk/', LESSONS_DIR).href);
    expect([lessonsPath('en'), lessonsPath('uk')]).toEqual(['lessons/', 'lessons/uk/']);
  });

  it('reads the translation when there is one', async () => {
    expect(await readLessonIn(LESSON_00, 'uk', FIXTURES)).toEqual({ source: '# 00 · Огляд\n\nУкраїнською.\n', lang: 'uk' });
  });

  it('falls back to the English lesson when the translation is missing, and says which it read', async () => {
    expect(await readLessonIn(LESSON_01, 'uk', FIXTURES)).toEqual({ source: '# 01 · TCP echo\n\nEnglish.\n', lang: 'en' });
  });

  it('reads English for en, whatever translations there are', async () => {
    expect((await readLessonIn(LESSON_00, 'en', FIXTURES)).lang).toBe('en');
  });

  it('rejects when not even the English lesson is there', async () => {
    await expect(readLessonIn(CATALOGUE[2]!, 'uk', FIXTURES)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('says so in one line when it falls back', () => {
    expect(fallbackNote(LESSON_01, 'uk')).toBe('note: lesson 01 is not in Ukrainian (uk) yet; here it is in English.');
  });
});
