/**
 * An entry point's caption setting (issue 10 §4): `inherit` follows the server's default
 * (CAPTIONS_CONSULTATIONS), `on` and `off` decide for every consultation that starts there.
 */
export const captionsSettings = ['inherit', 'on', 'off'] as const;
export type CaptionsSetting = (typeof captionsSettings)[number];

/** Whether a consultation from an entry point with `setting` is captioned, given the server's default. */
export function consultationCaptioned(setting: CaptionsSetting, serverDefault: boolean): boolean {
  return setting === 'inherit' ? serverDefault : setting === 'on';
}
