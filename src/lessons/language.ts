/**
 * Which language the lessons are shown in (`netlab lessons`, `netlab lesson N`): English, the
 * lessons in lessons/, or a translation, the same files in a folder of lessons/ named by its
 * language code (lessons/uk/). Only the lessons are translated: every other message of the CLI
 * stays English, so what a lesson shows in a terminal is the same in every language.
 *
 * `--lang` wins; without it the locale decides, as it does for any Unix program's messages:
 * the first of LC_ALL, LC_MESSAGES and LANG that is set (POSIX's order), Ukrainian when it
 * starts with `uk` (`uk_UA.UTF-8`), English otherwise. GNU's LANGUAGE list is not read.
 */
import { UsageError } from '../core/errors.js';
import { LESSONS_DIR, lessonNumber, readLesson, type CatalogueEntry } from './catalogue.js';

/** The lessons' languages, English first, as `--lang` takes them. */
export const LANGUAGES = ['en', 'uk'] as const;
export type Language = (typeof LANGUAGES)[number];

/** How a note names a language. */
const LANGUAGE_NAMES: Record<Language, string> = { en: 'English', uk: 'Ukrainian' };

/** The language asked for, and whether it was asked for with --lang rather than the locale. */
export interface LanguageChoice {
  lang: Language;
  explicit: boolean;
}

/** --lang's value if there is one, else the locale's language. */
export function chooseLanguage(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): LanguageChoice {
  if (flag !== undefined) return { lang: parseLanguage(flag), explicit: true };
  return { lang: localeLanguage(env), explicit: false };
}

/** `en` or `uk`, in any case; a UsageError with the accepted values for anything else. */
export function parseLanguage(value: string): Language {
  const wanted = value.trim().toLowerCase();
  const lang = LANGUAGES.find((candidate) => candidate === wanted);
  if (!lang) throw new UsageError(`--lang must be one of ${LANGUAGES.join(', ')}, not "${value}".`);
  return lang;
}

/** The language of the locale's messages: `uk` for uk_UA.UTF-8, uk or uk_UA; else `en`. */
export function localeLanguage(env: NodeJS.ProcessEnv): Language {
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((value) => value !== undefined && value !== '') ?? '';
  return /^uk([_.@-]|$)/i.test(locale) ? 'uk' : 'en';
}

/** The folder of a language's lessons, under `root` (LESSONS_DIR, the English lessons). */
export function lessonsDir(lang: Language, root: URL = LESSONS_DIR): URL {
  return lang === 'en' ? root : new URL(`${lang}/`, root);
}

/** The same folder as a path from the package's root, for links: `lessons/uk/`. */
export function lessonsPath(lang: Language): string {
  return lang === 'en' ? 'lessons/' : `lessons/${lang}/`;
}

/** A lesson's Markdown and the language it is in: the one asked for, or English if it has none. */
export interface LessonText {
  source: string;
  lang: Language;
}

/**
 * Resolves to the lesson in `lang`, or to the English one when that language has no such
 * file. Rejects with the file system's error for anything else, and when the English is missing.
 */
export async function readLessonIn(entry: CatalogueEntry, lang: Language, root: URL = LESSONS_DIR): Promise<LessonText> {
  if (lang !== 'en') {
    try {
      return { source: await readLesson(entry, lessonsDir(lang, root)), lang };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return { source: await readLesson(entry, root), lang: 'en' };
}

/** The one line said when a lesson is shown in English instead: `lesson 07 is not in …`. */
export function fallbackNote(entry: CatalogueEntry, lang: Language): string {
  return `note: lesson ${lessonNumber(entry)} is not in ${LANGUAGE_NAMES[lang]} (${lang}) yet; here it is in English.`;
}

/** ` --lang uk` when --lang chose the language, so a command the CLI suggests keeps it. */
export function langFlag(choice: LanguageChoice): string {
  return choice.explicit ? ` --lang ${choice.lang}` : '';
}
