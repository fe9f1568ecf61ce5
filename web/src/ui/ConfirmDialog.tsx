import { useEffect, useRef, type ReactNode } from 'react';

/** A modal confirmation (native <dialog>: focus trapped, Escape closes). */
export function ConfirmDialog(props: {
  title: string;
  children: ReactNode;
  confirm: string;
  onConfirm: () => void;
  onClose: () => void;
  danger?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="dialog-title" onClose={props.onClose}>
      <h2 id="dialog-title">{props.title}</h2>
      <div className="dialog-body">{props.children}</div>
      <div className="dialog-actions">
        <button type="button" onClick={() => ref.current?.close()}>
          Keep it
        </button>
        <button
          type="button"
          className={props.danger ? 'danger' : 'primary'}
          onClick={() => {
            props.onConfirm();
            ref.current?.close();
          }}
        >
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}
