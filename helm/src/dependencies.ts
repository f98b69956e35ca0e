// Packs each chart's file:// dependencies into its charts/ folder (git ignores them): the service
// charts take the library chart, the umbrella takes the service charts. No network is used.
import { HELM_DIR, SERVICE_CHARTS, helm } from './helm.ts';

for (const chart of [...SERVICE_CHARTS, 'flotilla']) {
  const result = helm('dependency', 'update', '--skip-refresh', `${HELM_DIR}${chart}`);
  if (result.code !== 0) {
    process.stderr.write(`helm dependency update ${chart} failed:\n${result.stderr}`);
    process.exit(1);
  }
}
process.stdout.write(`chart dependencies packed for ${SERVICE_CHARTS.join(', ')}, flotilla\n`);
