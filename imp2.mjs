const t0 = performance.now();
const { loadScenario } = await import('./dist/src/scenario/load.js');
const t1 = performance.now();
loadScenario('scenarios/multi-model-platform.yaml');
const t2 = performance.now();
loadScenario('scenarios/multi-model-platform.yaml');
const t3 = performance.now();
console.log('import', (t1-t0).toFixed(0), 'load', (t2-t1).toFixed(0), 'again', (t3-t2).toFixed(0), 'since start', performance.now().toFixed(0));
