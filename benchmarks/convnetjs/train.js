// Training throughput of ConvNetJS on the CIFAR-10 demo's network, for bench_trainer.py.
//
// Usage: node train.js EXAMPLES WARMUP BATCH SEED
// Prints one JSON line: {"examples", "seconds", "examples_per_s", "cpu_seconds"}, where
// cpu_seconds is the process's user + system CPU time over the timed loop.
// Inputs are random 32x32x3 volumes with random labels: ConvNetJS's loops
// cost the same whatever the pixel values, so real images would not change
// the time, and the benchmark needs no data download.
'use strict';

const convnetjs = require('convnetjs');

const [examples, warmup, batch, seed] = process.argv.slice(2).map(Number);

// A small linear congruential generator, so that both sides of the
// benchmark can be rerun on the same inputs without a seeding library.
let state = seed >>> 0;
function uniform() {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state / 4294967296;
}

function network() {
  const defs = [
    {type: 'input', out_sx: 32, out_sy: 32, out_depth: 3},
    {type: 'conv', sx: 5, filters: 16, stride: 1, pad: 2, activation: 'relu'},
    {type: 'pool', sx: 2, stride: 2},
    {type: 'conv', sx: 5, filters: 20, stride: 1, pad: 2, activation: 'relu'},
    {type: 'pool', sx: 2, stride: 2},
    {type: 'conv', sx: 5, filters: 20, stride: 1, pad: 2, activation: 'relu'},
    {type: 'pool', sx: 2, stride: 2},
    {type: 'softmax', num_classes: 10},
  ];
  const net = new convnetjs.Net();
  net.makeLayers(defs);
  return net;
}

function sample() {
  const vol = new convnetjs.Vol(32, 32, 3, 0.0);
  for (let i = 0; i < vol.w.length; i++) vol.w[i] = uniform() * 2 - 1;
  return [vol, Math.floor(uniform() * 10)];
}

const net = network();
const trainer = new convnetjs.SGDTrainer(net, {
  method: 'sgd', learning_rate: 0.01, momentum: 0.9, batch_size: batch, l2_decay: 0.0001,
});
const pool = Array.from({length: 64}, sample);
for (let i = 0; i < warmup; i++) trainer.train(pool[i % pool.length][0], pool[i % pool.length][1]);
const cpuStart = process.cpuUsage();
const start = process.hrtime.bigint();
for (let i = 0; i < examples; i++) trainer.train(pool[i % pool.length][0], pool[i % pool.length][1]);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({examples, seconds, examples_per_s: examples / seconds,
                            cpu_seconds: cpuSeconds}));
