import './base.css';
import '../../jupyter_tracker/notebook/widgets/panel.css';
