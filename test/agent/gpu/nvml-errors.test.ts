import { expect } from 'chai';
import {
  classifyInitFailure,
  needsReinit,
  nvmlErrorName,
  problemKindFor,
} from '../../../agent/src/gpu/nvml-errors.ts';

describe('nvml-errors', () => {
  it('names known codes and gives unknown future codes a generic name', () => {
    expect(nvmlErrorName(18)).to.equal('NVML_ERROR_LIB_RM_VERSION_MISMATCH');
    expect(nvmlErrorName(999)).to.equal('NVML_ERROR_UNKNOWN');
    expect(nvmlErrorName(31)).to.equal('NVML_ERROR_31');
  });

  it('classifies init failures into retryable states with a hint', () => {
    const notLoaded = classifyInitFailure(
      'nvmlInit_v2',
      9,
      'Driver Not Loaded',
      4000,
    );
    const mismatch = classifyInitFailure(
      'nvmlInit_v2',
      18,
      'RM has detected an NVML/RM version mismatch',
      1000,
    );
    const other = classifyInitFailure(
      'nvmlInit_v2',
      999,
      'Unknown Error',
      1000,
    );

    expect(notLoaded.kind).to.equal('driver_not_loaded');
    expect(notLoaded.retryable).to.equal(true);
    expect(notLoaded.message).to.contain('retrying in 4 s');
    expect(mismatch.kind).to.equal('driver_mismatch');
    expect(mismatch.message).to.contain('reboot');
    expect(classifyInitFailure('nvmlInit_v2', 4, 'x', 1).kind).to.equal(
      'no_permission',
    );
    expect(other.kind).to.equal('init_failed');
  });

  it('maps per-field codes to problem kinds', () => {
    expect(problemKindFor(3)).to.equal('field_unsupported');
    expect(problemKindFor(4)).to.equal('no_permission');
    expect(problemKindFor(15)).to.equal('gpu_lost');
    expect(problemKindFor(999)).to.equal('nvml_error');
  });

  it('asks for a new init after uninitialised, driver gone or mismatch', () => {
    expect([1, 9, 18].map(needsReinit)).to.deep.equal([true, true, true]);
    expect([3, 15, 999].map(needsReinit)).to.deep.equal([false, false, false]);
  });
});
