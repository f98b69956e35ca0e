import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deploymentProgress,
  figuresOfRun,
  imageTagOf,
  rolloutState,
  stepOfWeight,
  type RolloutLike,
} from './rollout.ts';

const canary = (status: NonNullable<RolloutLike['status']>, paused = false): RolloutLike => ({
  metadata: { generation: 3 },
  spec: {
    paused,
    template: {
      spec: { containers: [{ image: 'registry.example.com/flotilla/order-service:3f2a9c1d7b4e' }] },
    },
    strategy: {
      canary: {
        steps: [{ setWeight: 10 }, { pause: { duration: '2m' } }, { setWeight: 30 }, { pause: {} }],
      },
    },
  },
  status: { observedGeneration: '3', ...status },
});

describe('reading Kubernetes objects', () => {
  it('takes the image tag or digest a workload runs', () => {
    assert.equal(imageTagOf(canary({})), '3f2a9c1d7b4e');
    assert.equal(
      imageTagOf({
        spec: { template: { spec: { containers: [{ image: 'localhost:5000/x@sha256:ab' }] } } },
      }),
      'sha256:ab',
    );
    assert.equal(
      imageTagOf({ spec: { template: { spec: { containers: [{ image: 'localhost:5000/x' }] } } } }),
      undefined,
    );
  });

  it("follows a Deployment's rollout to done, and sees a passed progress deadline", () => {
    const base = { metadata: { generation: 2 }, spec: { replicas: 2 } };
    assert.equal(
      deploymentProgress({
        ...base,
        status: { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 2 },
      }).state,
      'progressing',
    );
    assert.equal(
      deploymentProgress({
        ...base,
        status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
      }).state,
      'done',
    );
    assert.equal(
      deploymentProgress({
        ...base,
        status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
      }).state,
      'progressing',
      'not observed yet',
    );
    const stuck = deploymentProgress({
      ...base,
      status: {
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "x" has timed out progressing.',
          },
        ],
      },
    });
    assert.deepEqual(stuck, {
      state: 'failed',
      detail: 'ReplicaSet "x" has timed out progressing.',
    });
  });

  it("tells a Rollout's state: paused at a step (timed or waiting for a promotion), aborted, healthy", () => {
    assert.deepEqual(
      rolloutState(
        canary({
          phase: 'Paused',
          currentStepIndex: 1,
          pauseConditions: [{ reason: 'CanaryPauseStep' }],
        }),
      ),
      {
        state: 'paused',
        step: 1,
        indefinite: false,
        detail: 'paused at step 1',
      },
    );
    const waiting = rolloutState(
      canary({
        phase: 'Paused',
        currentStepIndex: 3,
        pauseConditions: [{ reason: 'CanaryPauseStep' }],
      }),
    );
    assert.equal(waiting.state === 'paused' && waiting.indefinite, true);
    assert.equal(
      rolloutState(
        canary({ abort: true, message: 'RolloutAborted: metric "success-rate" assessed Failed' }),
      ).state,
      'aborted',
    );
    assert.equal(
      rolloutState(canary({ phase: 'Healthy', currentPodHash: 'abc', stableRS: 'abc' })).state,
      'healthy',
    );
    assert.equal(
      rolloutState(canary({ phase: 'Healthy', currentPodHash: 'new', stableRS: 'old' })).state,
      'progressing',
    );
    assert.equal(stepOfWeight(canary({}), 30), 2);
    assert.equal(stepOfWeight(canary({}), 50), undefined);
  });

  it("turns an AnalysisRun's latest measurements and phase into the kit's figures", () => {
    const figures = figuresOfRun(
      {
        metadata: { name: 'order-service-7c9-2' },
        status: {
          phase: 'Failed',
          message: 'metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)',
          metricResults: [
            {
              name: 'success-rate',
              measurements: [{ value: '[0.995]' }, { value: '[0.712]', phase: 'Failed' }],
            },
            { name: 'p99-latency', measurements: [{ value: '[0.041]' }] },
          ],
        },
      },
      10,
    );
    assert.equal(figures.verdict, 'failed');
    assert.equal(figures.successRate, 0.712);
    assert.equal(figures.p99Seconds, 0.041);
    assert.equal(figures.requests, undefined);
    assert.match(figures.reason, /order-service-7c9-2 Failed: success 71.2%, p99 41 ms/);
    assert.equal(figuresOfRun({ status: { phase: 'Running' } }, 10).verdict, 'inconclusive');
  });
});
