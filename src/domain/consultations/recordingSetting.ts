/**
 * An entry point's recording setting (issue 12): `inherit` follows the server's default
 * (RECORD_CONSULTATIONS), `on` and `off` decide for every consultation that starts there.
 * Whatever the setting, a consultation is recorded only when its customer consented.
 */
export const recordingSettings = ['inherit', 'on', 'off'] as const;
export type RecordingSetting = (typeof recordingSettings)[number];

/** Whether a consultation is recorded: the customer consented AND its entry point records. */
export function consultationRecorded(input: { consented: boolean; setting: RecordingSetting; serverDefault: boolean }): boolean {
  if (!input.consented) return false;
  return input.setting === 'inherit' ? input.serverDefault : input.setting === 'on';
}
