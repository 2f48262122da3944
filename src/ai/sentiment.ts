/**
 * Sentiment port: one caller message in, seed 001's `{sentiment, score}` out. `score` is 0..1 from most negative
 * to most positive (0.5 is neutral, as seed 001's example answers); `sentiment` is its label.
 */
export type SentimentLabel = 'positive' | 'neutral' | 'negative';

export interface Sentiment {
  readonly sentiment: SentimentLabel;
  readonly score: number;
}

export interface SentimentAnalyzer {
  readonly label: string;
  analyze(text: string, language?: string): Promise<Sentiment>;
}

/** Maps a positivity in 0..1 to its label (the middle fifth is neutral). */
export function sentimentOf(score: number): Sentiment {
  const s = Math.round(Math.min(1, Math.max(0, score)) * 100) / 100;
  return { sentiment: s >= 0.6 ? 'positive' : s <= 0.4 ? 'negative' : 'neutral', score: s };
}

/** Hangul in the text means Korean; otherwise English (the two languages the embedded engines know). */
export function guessLanguage(text: string): 'ko' | 'en' {
  return /[\u3131-\u318e\uac00-\ud7a3]/u.test(text) ? 'ko' : 'en';
}
