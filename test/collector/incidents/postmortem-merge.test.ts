import { expect } from 'chai';
import {
  composePostmortem,
  editedSections,
} from '../../../collector/src/incidents/postmortem-merge.ts';
import type { PostmortemSection } from '../../../collector/src/incidents/postmortem.ts';

const v1: PostmortemSection[] = [
  { id: 'summary', markdown: '## Summary\n\nopen' },
  { id: 'lessons', markdown: '## Lessons Learned\n\n- generated lesson' },
  { id: 'footer', markdown: '---\n*footer*' },
];
const v2: PostmortemSection[] = [
  { id: 'summary', markdown: '## Summary\n\nresolved' },
  { id: 'lessons', markdown: '## Lessons Learned\n\n- newer generated lesson' },
  { id: 'footer', markdown: '---\n*footer*' },
];

describe('composePostmortem()', () => {
  it('replaces sections nobody edited', () => {
    const first = composePostmortem(v1, null);

    const second = composePostmortem(v2, first);

    expect(second).to.contain('resolved');
    expect(second).to.contain('newer generated lesson');
    expect(second).to.equal(composePostmortem(v2, null));
  });

  it('keeps a section a person edited, now and on later regenerations', () => {
    const edited = composePostmortem(v1, null).replace(
      '- generated lesson',
      '- the on-call knew the tunnel owner',
    );

    const second = composePostmortem(v2, edited);
    const third = composePostmortem(v2, second);

    expect(editedSections(edited)).to.deep.equal(['lessons']);
    expect(third).to.contain('- the on-call knew the tunnel owner');
    expect(third).to.not.contain('newer generated lesson');
    expect(third).to.contain('resolved');
  });

  it('keeps text a person added outside the sections after the section it followed', () => {
    const added = composePostmortem(v1, null).replace(
      '<!-- gpuwarden:end summary -->',
      '<!-- gpuwarden:end summary -->\n\n## Customer notes\n\nTwo teams paused their batch jobs.',
    );

    const second = composePostmortem(v2, added);

    const notesAt = second.indexOf('## Customer notes');
    expect(notesAt).to.be.greaterThan(second.indexOf('resolved'));
    expect(notesAt).to.be.lessThan(second.indexOf('## Lessons Learned'));
  });
});
