// Which condition transitions become Warning Events.
import { isWarning } from '../../src/operator/writes.ts';

const t = (type: string, to: 'True' | 'False' | 'Unknown', reason: string) => ({ type, from: null, to, reason, message: '' });

test('a layer or Ready turning False, or a failed probe, is a Warning; settling and converging are not', () => {
  expect(isWarning(t('IPVSVerified', 'False', 'Mismatched'))).toBe(true);
  expect(isWarning(t('Ready', 'False', 'LayersFailed'))).toBe(true);
  expect(isWarning(t('RoutesVerified', 'Unknown', 'ProbeFailed'))).toBe(true);
  expect(isWarning(t('IPVSVerified', 'Unknown', 'Converging'))).toBe(false);
  expect(isWarning(t('Progressing', 'False', 'Settled'))).toBe(false);
  expect(isWarning(t('Ready', 'True', 'AllVerified'))).toBe(false);
});
