import * as allure from 'allure-js-commons';
import { writeRecording, type Recording } from '../record/recording.ts';

/**
 * Keeps a recording as evidence: written under <reportsDir>/recordings/ (for `meshproof judge` and the
 * conformance summary) and attached to the current Allure test, so the report shows the raw observations
 * behind each verdict. Returns the file written.
 */
export async function keepRecording(reportsDir: string, recording: Recording): Promise<string> {
  const file = writeRecording(reportsDir, recording);
  await allure.attachment(`recording: ${recording.title}`, `${JSON.stringify(recording, null, 2)}\n`, {
    contentType: 'application/json',
    fileExtension: 'json',
  });
  return file;
}
