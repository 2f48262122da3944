/**
 * The embedded sentiment analyzer for Korean and English, on the `sentiment` package (AFINN-165 for English, with
 * its negation handling). Korean is registered as a second language of the same package: a lexicon of word stems
 * (좋, 감사, 화나, 불편, …) and a pre-pass that reduces each word to the stem it starts with, since Korean attaches
 * endings and particles to the stem (좋아요, 불편했어요); 안/못 before a word and 않/없 after it negate it.
 */
import SentimentLib from 'sentiment';
import { guessLanguage, sentimentOf, type Sentiment, type SentimentAnalyzer } from '../sentiment.js';

/** Korean stems with AFINN-style weights (-5..5). */
const KO_STEMS: Readonly<Record<string, number>> = {
  좋: 3, 감사: 3, 고맙: 3, 고마: 3, 최고: 4, 훌륭: 4, 만족: 3, 친절: 3, 행복: 3, 기쁘: 3, 기뻐: 3, 다행: 2, 편리: 2, 편하: 2, 빠르: 2, 빨리해: 1,
  멋지: 3, 멋져: 3, 괜찮: 1, 사랑: 3, 완벽: 4, 해결됐: 3, 해결되었: 3, 도움이됐: 3, 도움됐: 3, 추천: 2, 즐겁: 3, 재밌: 2, 반갑: 2,
  싫: -3, 나쁘: -3, 나빠: -3, 화나: -3, 화가: -3, 화났: -3, 짜증: -3, 불편: -2, 불만: -3, 실망: -3, 최악: -5, 엉망: -4, 문제: -1, 고장: -2,
  답답: -2, 느리: -2, 늦: -1, 환불: -1, 취소: -1, 불친절: -3, 힘들: -2, 어렵: -1, 슬프: -2, 속상: -3, 억울: -3, 황당: -3, 어이없: -3, 오류: -2,
  에러: -2, 안되: -2, 안돼: -2, 안됩: -2, 못하: -1, 불량: -3, 사기: -4, 항의: -3, 피해: -2, 걱정: -1, 아쉽: -1, 쓰레기: -5, 망했: -4,
};
const KO_STEM_LIST = Object.keys(KO_STEMS).sort((a, b) => b.length - a.length);
const KO_NEGATORS_BEFORE = new Set(['안', '못', '별로', '전혀']);
const KO_NEGATING_ENDINGS = /(않|없|아니)/u;

export class EmbeddedSentimentAnalyzer implements SentimentAnalyzer {
  readonly label = 'embedded-afinn';
  readonly #lib = new SentimentLib();

  constructor() {
    const labels: Record<string, number> = { ...KO_STEMS };
    this.#lib.registerLanguage('ko', {
      labels,
      scoringStrategy: {
        apply(tokens: string[], cursor: number, tokenScore: number): number {
          const prev = tokens[cursor - 1];
          const raw = tokens[cursor + 1];
          if ((prev && KO_NEGATORS_BEFORE.has(prev)) || raw === 'xneg') return -tokenScore;
          return tokenScore;
        },
      },
    });
  }

  async analyze(text: string, language?: string): Promise<Sentiment> {
    const lang = language === 'ko' || language === 'en' ? language : guessLanguage(text);
    const input = lang === 'ko' ? koreanStems(text) : text;
    const r = this.#lib.analyze(input, { language: lang });
    // comparative is the mean weight per token; a few strong words in a short message should count, so the
    // score blends the sum (saturating) with the mean.
    const strength = Math.tanh(r.score / 4) * 0.7 + Math.tanh(r.comparative) * 0.3;
    return sentimentOf(0.5 + strength / 2);
  }
}

/** Each Korean word as the stem it starts with (and a `xneg` marker after it when its ending negates it). */
function koreanStems(text: string): string {
  const out: string[] = [];
  for (const word of text.toLowerCase().split(/[\s.,!?~…]+/u)) {
    if (!word) continue;
    if (/^(않|없|아니)/u.test(word) && out.length > 0 && out[out.length - 1]! in KO_STEMS) {
      out.push('xneg');
      continue;
    }
    if (KO_NEGATORS_BEFORE.has(word)) {
      out.push(word);
      continue;
    }
    const stem = KO_STEM_LIST.find((s) => word.startsWith(s)) ?? KO_STEM_LIST.find((s) => word.includes(s));
    if (!stem) {
      out.push(word);
      continue;
    }
    out.push(stem);
    if (KO_NEGATING_ENDINGS.test(word.slice(word.indexOf(stem) + stem.length))) out.push('xneg');
  }
  return out.join(' ');
}
