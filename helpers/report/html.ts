/** Text made safe inside HTML text and double-quoted attributes (the report's descriptions are HTML). */
export const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
