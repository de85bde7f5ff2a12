/** Azure-format trace text: `count` arrivals every `intervalS` seconds from 2023-11-16, 500 prompt and 100 output tokens each. */
export function periodicTrace(count: number, intervalS: number): string {
  const rows = ['TIMESTAMP,ContextTokens,GeneratedTokens'];
  const t0 = Date.parse('2023-11-16T00:00:00Z');
  for (let i = 0; i < count; i++) {
    const ms = t0 + i * intervalS * 1000;
    const iso = new Date(Math.floor(ms)).toISOString().replace('T', ' ').slice(0, 19);
    rows.push(`${iso}${((ms % 1000) / 1000).toFixed(7).slice(1)},500,100`);
  }
  return rows.join('\n') + '\n';
}
